"""Writes to the org tree: create units and import an org list."""
from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from lms.errors import ValidationError
from lms.extensions import db
from lms.org.models import KIND_LABELS, KIND_ORDER, GridType, OrgKind, OrgUnit, subtree_clause
from lms.tabular import read_rows

ORG_COLUMNS = ["编码", "名称", "类型", "上级编码", "户数", "网格类型"]

_KIND_ALIASES = {
    "省": OrgKind.province, "市": OrgKind.city, "县": OrgKind.county, "区": OrgKind.county,
    "县（区）": OrgKind.county, "乡镇": OrgKind.township, "乡": OrgKind.township, "镇": OrgKind.township,
    "街道": OrgKind.township, "乡镇（街道）": OrgKind.township, "村": OrgKind.village, "社区": OrgKind.village,
    "村（社区）": OrgKind.village, "网格": OrgKind.grid,
}
_GRID_ALIASES = {"城镇": GridType.urban, "城镇网格": GridType.urban, "城市": GridType.urban,
                 "农村": GridType.rural, "农村网格": GridType.rural, "山区": GridType.mountain,
                 "山区网格": GridType.mountain, "专属": GridType.special, "专属网格": GridType.special}


def parse_kind(text: str) -> OrgKind | None:
    text = text.strip()
    try:
        return OrgKind(text.lower())
    except ValueError:
        return _KIND_ALIASES.get(text)


def parse_grid_type(text: str) -> GridType | None:
    text = text.strip()
    try:
        return GridType(text.lower())
    except ValueError:
        return _GRID_ALIASES.get(text)


def _check_nesting(kind: OrgKind, parent: OrgUnit | None) -> str | None:
    if parent is None:
        return None
    if KIND_ORDER.index(kind) <= KIND_ORDER.index(parent.kind):
        return f"类型“{KIND_LABELS[kind]}”不能位于“{KIND_LABELS[parent.kind]}”（{parent.code}）之下"
    return None


def create_org(code: str, name: str, kind: OrgKind, parent: OrgUnit | None = None,
               households: int | None = None, grid_type: GridType | None = None) -> OrgUnit:
    """Add one unit below parent (or as a root); its path is set after the id is known."""
    problem = _check_nesting(kind, parent)
    if problem:
        raise ValidationError(problem)
    unit = OrgUnit(code=code, name=name, kind=kind, parent=parent, households=households, grid_type=grid_type,
                   path="", depth=(parent.depth + 1) if parent else 0)
    db.session.add(unit)
    db.session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return unit


def _move(unit: OrgUnit, new_parent: OrgUnit) -> None:
    """Re-parent a unit and rewrite its subtree's paths in one UPDATE."""
    old_prefix = unit.path
    new_prefix = f"{new_parent.path}{unit.id}/"
    delta = new_parent.depth + 1 - unit.depth
    db.session.flush()
    db.session.execute(
        sa.update(OrgUnit)
        .where(subtree_clause(OrgUnit.path, old_prefix))
        .values(path=sa.literal(new_prefix) + sa.func.substr(OrgUnit.path, len(old_prefix) + 1),
                depth=OrgUnit.depth + delta)
        .execution_options(synchronize_session=False)
    )
    unit.parent_id = new_parent.id
    db.session.flush()
    db.session.expire_all()


@dataclasses.dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = dataclasses.field(default_factory=list)

    @property
    def error_lines(self) -> list[str]:
        return [f"row {row}: {message}" for row, message in self.errors]


def _outside(unit: OrgUnit | None, scope_paths: list[str] | None) -> bool:
    return scope_paths is not None and unit is not None and not any(unit.path.startswith(p) for p in scope_paths)


def import_orgs(data: bytes, filename: str, *, scope_paths: list[str] | None = None) -> ImportReport:
    """Sync units from an org list (API.md columns); bad rows are reported, good rows kept.

    scope_paths: the subtrees the importer may change (None: everything, the console); a row whose unit or
    parent lies outside them is an error.
    """
    report = ImportReport()
    rows = read_rows(data, filename, ORG_COLUMNS)
    existing = {u.code: u for u in db.session.scalars(sa.select(OrgUnit))}
    pending: list[tuple[int, dict]] = []
    seen: set[str] = set()
    for number, row in rows:
        problem = _validate_org_row(row)
        code = row["编码"].strip()
        if not problem and code in seen:
            problem = f"编码 {code} 在本文件中重复（保留第一次出现的行）"
        if not problem and scope_paths is not None:
            parent = existing.get(row["上级编码"].strip())
            if _outside(existing.get(code), scope_paths) or _outside(parent, scope_paths) or (
                    code not in existing and not row["上级编码"].strip()):
                problem = f"单位 {code} 或其上级不在您的管辖范围内"
        if problem:
            report.errors.append((number, problem))
            continue
        seen.add(code)
        pending.append((number, row))

    # Parents may come after children in the file: retry until no progress.
    while pending:
        progressed = False
        waiting = []
        for number, row in pending:
            parent_code = row["上级编码"].strip()
            if parent_code and parent_code not in existing:
                waiting.append((number, row))
                continue
            progressed = True
            try:
                with db.session.begin_nested():
                    outcome = _apply_org_row(row, existing)
            except ValidationError as exc:
                report.errors.append((number, exc.message))
                continue
            setattr(report, outcome, getattr(report, outcome) + 1)
        if not progressed:
            for number, row in waiting:
                report.errors.append((number, f"上级编码 {row['上级编码'].strip()} 不存在（既不在系统中，也不在本文件的有效行中）"))
            break
        pending = waiting
    report.errors.sort()
    return report


def _validate_org_row(row: dict) -> str | None:
    code, name = row["编码"].strip(), row["名称"].strip()
    if not code:
        return "编码为空"
    if len(code) > 32 or not all(c.isalnum() or c in "-_" for c in code):
        return f"编码“{code}”只能包含字母、数字、- 和 _，且不超过 32 个字符"
    if not name:
        return "名称为空"
    if parse_kind(row["类型"]) is None:
        return f"类型“{row['类型']}”无效，应为 province/city/county/township/village/grid 之一"
    if row.get("户数", "").strip():
        try:
            if int(row["户数"].strip()) < 0:
                return "户数不能为负数"
        except ValueError:
            return f"户数“{row['户数']}”不是整数"
    if row.get("网格类型", "").strip() and parse_grid_type(row["网格类型"]) is None:
        return f"网格类型“{row['网格类型']}”无效，应为 urban/rural/mountain/special（城镇/农村/山区/专属）"
    if row["上级编码"].strip() == code:
        return "上级编码不能是自己"
    return None


def _apply_org_row(row: dict, existing: dict[str, OrgUnit]) -> str:
    code = row["编码"].strip()
    kind = parse_kind(row["类型"])
    parent = existing.get(row["上级编码"].strip()) if row["上级编码"].strip() else None
    households = int(row["户数"]) if row.get("户数", "").strip() else None
    grid_type = parse_grid_type(row["网格类型"]) if row.get("网格类型", "").strip() else None
    unit = existing.get(code)
    if unit is None:
        existing[code] = create_org(code, row["名称"].strip(), kind, parent, households, grid_type)
        return "created"
    problem = _check_nesting(kind, parent)
    if problem:
        raise ValidationError(problem)
    if parent is not None and parent.path.startswith(unit.path):
        raise ValidationError(f"上级编码 {parent.code} 位于 {code} 之下，不能形成循环")
    changed = False
    for attr, value in (("name", row["名称"].strip()), ("kind", kind), ("households", households),
                        ("grid_type", grid_type)):
        if getattr(unit, attr) != value:
            setattr(unit, attr, value)
            changed = True
    if (parent.id if parent else None) != unit.parent_id:
        if parent is None:
            raise ValidationError("已有单位不能改为顶级单位")
        _move(unit, parent)
        changed = True
    return "updated" if changed else "unchanged"


def record_org_import(actor, filename: str, report: ImportReport, client_addr: str | None = None) -> None:
    """The audit entry of an applied org import, the same from the page and the JSON route."""
    from lms.audit.services import record  # late: audit imports the org models

    record("org.import", actor=actor, target_type="file", target=filename, client_addr=client_addr,
           details={"created": report.created, "updated": report.updated, "unchanged": report.unchanged,
                    "errors": len(report.errors), "file": filename,
                    "summary": f"{actor.name} 导入组织架构《{filename}》：新增 {report.created} 个单位，"
                               f"更新 {report.updated} 个，错误 {len(report.errors)} 行"})


def preview_orgs(data: bytes, filename: str, *, scope_paths: list[str] | None = None) -> ImportReport:
    """What import_orgs would do, row by row, with nothing kept (run in a savepoint, then rolled back)."""
    nested = db.session.begin_nested()
    try:
        return import_orgs(data, filename, scope_paths=scope_paths)
    finally:
        nested.rollback()


#: Chinese names of a unit's editable fields, for messages and the audit log
ORG_FIELD_LABELS = {"name": "名称", "parent": "上级单位", "households": "户数", "grid_type": "网格类型"}


def update_org(unit: OrgUnit, *, name: str, parent: OrgUnit | None, households: int | None,
               grid_type: GridType | None) -> list[str]:
    """Rename, re-parent (moving its subtree) or change a unit; returns the changed fields' keys.

    Records that name the unit by id (memberships, attempts, attendance…) keep pointing at it, so its
    people's history moves with it; statistics attribute each event to the unit recorded at the time.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError("名称不能为空")
    if len(name) > 100:
        raise ValidationError("名称不能超过 100 个字")
    if households is not None and households < 0:
        raise ValidationError("户数不能为负数")
    changed = []
    if (parent.id if parent else None) != unit.parent_id:
        if parent is None:
            raise ValidationError("已有单位不能改为顶级单位")
        if parent.path.startswith(unit.path):
            raise ValidationError(f"不能把“{unit.name}”移到它自己或其下级“{parent.name}”之下")
        if _check_nesting(unit.kind, parent):
            raise ValidationError(f"“{unit.kind_label}”不能位于“{parent.kind_label}”（{parent.name}）之下")
        _move(unit, parent)
        changed.append("parent")
    for attr, value in (("name", name), ("households", households), ("grid_type", grid_type)):
        if getattr(unit, attr) != value:
            setattr(unit, attr, value)
            changed.append(attr)
    return changed
