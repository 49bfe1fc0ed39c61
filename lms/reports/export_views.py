"""HR exports under /exports: certificates (XLSX, CSV, ZIP of PDFs), team gaps, trainings statistics; scoped, audited.

Its own blueprint so the reports feature's views stay separate; registered by
the certification feature, whose tables these exports read. Rows stream from a
Core query in large batches (a server-side cursor on PostgreSQL) into the pure
writers of lms.reports.exports, so memory does not grow with the row count.
Each export is counted and audited before the body streams: an export that a
client abandons was still requested.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, Response, request, stream_with_context
from flask_login import current_user

from lms.accounts.models import User, UserStatus
from lms.accounts.permissions import Permission, authorize, require, scope_clause, scoped_org, sees_pii
from lms.audit.services import record_after_read
from lms.certification import present, queries
from lms.certification.models import Certificate, Program
from lms.certification.pdf import iter_many_zip
from lms.certification.services import add_months
from lms.db import SHANGHAI
from lms.errors import NotFound, ValidationError
from lms.extensions import db
from lms.org.models import KIND_LABELS, OrgKind, OrgUnit
from lms.org.queries import get_org
from lms.points.queries import totals_subquery
from lms.quizzes.queries import get_quiz, quiz_results_query
from lms.records.queries import EXPORT_RECORDS, TOTAL_COLUMNS, TOTAL_WIDTHS, total_cells, totals_query
from lms.reports.exports import (
    CERTIFICATE_COLUMNS, CERTIFICATE_WIDTHS, certificate_cells, iter_csv, iter_xlsx, neutralise,
)
from lms.reports.stats import org_stats
from lms.reports.views import stats_request
from lms.web import client_addr

P = Permission
#: hr and trainers see the scores of the people in their scope (API.md: hr/trainer in scope)
QUIZ_RESULTS_PERMISSION = P.VIEW_USERS
bp = Blueprint("exports", __name__, url_prefix="/exports")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_YIELD = 1000
#: certificate rows per fetch of the export's stream (one round trip each on PostgreSQL; ~5 MB in memory)
_EXPORT_FETCH = 5000
#: education levels counted as 大专 or higher
HIGHER_EDUCATION = ("大专", "本科", "研究生")
TEAM_GAP_COLUMNS = ("乡镇(街道)", "村(社区)", "网格编码", "网格", "在岗人数", "35岁以下大专及以上人数")
TRAINING_COLUMNS = ("单位编码", "单位", "类型", "上级单位", "培训场次", "培训人次", "培训学时",
                    "指派课程（人·门）", "已完成（人·门）", "课程完成率(%)", "测验交卷人次", "测验通过人次",
                    "测验通过率(%)", "模拟上报份数", "退回份数", "上报退回率(%)", "统计起始", "统计截止")
TRAINING_WIDTHS = (12, 16, 8, 16, 10, 10, 10, 16, 14, 14, 12, 12, 14, 12, 10, 14, 12, 12)


class OrgIndex:
    """Township/village/grid names and the viewer's pii right for every org unit, as plain values.

    Computed in full before the body streams: the generator then needs neither
    the request's user nor its ORM objects (they expire when the audit commits).
    """

    def __init__(self, actor):
        units = {u.id: u for u in db.session.scalars(sa.select(OrgUnit))}
        self._places: dict[int, tuple[str, str, str, bool]] = {}
        for unit_id, unit in units.items():
            found = {}
            for part in unit.path.strip("/").split("/"):
                ancestor = units.get(int(part)) if part.isdigit() else None
                if ancestor is not None:
                    found[ancestor.kind] = ancestor.name
            self._places[unit_id] = (found.get(OrgKind.township, ""), found.get(OrgKind.village, ""),
                                     found.get(OrgKind.grid, ""), sees_pii(actor, unit))

    def place(self, org_id: int) -> tuple[str, str, str, bool]:
        """(乡镇, 村, 网格, pii): names above and at the unit (empty where it sits higher), the viewer's pii there."""
        return self._places.get(org_id, ("", "", "", False))

    def names(self, org_id: int) -> tuple[str, str, str]:
        """(乡镇, 村, 网格) names above and at the unit; empty where the unit sits higher."""
        return self.place(org_id)[:3]

    def pii(self, org_id: int) -> bool:
        return self.place(org_id)[3]

    def any_pii(self, org_ids) -> bool:
        """Whether the viewer sees full ID-card and phone numbers in any of these units."""
        return any(self.pii(org_id) for org_id in org_ids)


def _certificate_query(filters: present.Filters, today: dt.date):
    base = queries.filtered(current_user, P.EXPORT, today=today, **filters.kwargs())
    return base


def _audit(action: str, target: str, details: dict) -> None:
    """Audit the export and commit, before the body streams."""
    org = get_org(details["org"]) if details.get("org") else None
    record_after_read(action, actor=current_user, target_type="export", target=target, client_addr=client_addr(),
                      org=org or current_user.org, details=details)


def _count_and_audit(action: str, target: str, filters: present.Filters, today: dt.date,
                     index: OrgIndex | None = None) -> int:
    """Count the rows, audit the export with its filter and row count, commit (before streaming).

    With the org index (exports carrying ID-card and phone columns), the entry also says whether any row goes
    out unmasked (``pii_unmasked``): the viewer holds ``pii`` over the unit of some exported holder.
    """
    base = _certificate_query(filters, today)
    rows = db.session.scalar(base.with_only_columns(sa.func.count(Certificate.id)).order_by(None))
    details = {**filters.as_audit(), "rows": rows}
    if index is not None:
        units = db.session.scalars(base.with_only_columns(User.org_id).distinct().order_by(None))
        details["pii_unmasked"] = index.any_pii(units)
    _audit(action, target, details)
    return rows


def _record_query(filters: present.Filters, today: dt.date):
    """Certificate rows with holder, points and star level; a plain SQL select, built while the user is loaded."""
    points, stars = totals_subquery(), queries.stars_subquery(today)
    # The stored status text as is: no Enum object per row (100k of them) only to be turned back into text.
    status = sa.type_coerce(Certificate.status, sa.String)
    # Dates as the driver returns them, without SQLAlchemy's per-value parsing (~0.25 s CPU per 100k rows on
    # SQLite): date objects from PostgreSQL, the stored ISO text from SQLite; _rows turns text into dates.
    issued = sa.type_coerce(Certificate.issued_on, sa.String)
    expires = sa.type_coerce(Certificate.expires_on, sa.String)
    return (_certificate_query(filters, today)
            .with_only_columns(User.name, User.username, User.org_id, Program.title, Certificate.number,
                               issued, expires, status,
                               sa.func.coalesce(points.c.points, 0), sa.func.coalesce(stars.c.star, 0),
                               User.id_card, User.phone)
            .join(Program, Program.id == Certificate.program_id)
            .outerjoin(points, points.c.user_id == User.id)
            .outerjoin(stars, stars.c.user_id == User.id)
            .order_by(OrgUnit.path, User.username, Certificate.issued_on, Certificate.id))


def _rows(query, index: OrgIndex, today: dt.date, *, text_dates: bool = False):
    """Export rows in CERTIFICATE_COLUMNS order, streamed from the database.

    Executed on the session's connection, not through the ORM: plain tuples,
    no per-row ORM bookkeeping; fetched _EXPORT_FETCH rows at a time. Dates
    that SQLite returns as ISO text become dates, unless ``text_dates`` (the
    CSV, which prints a date as that same text).
    """
    last_org, place = None, ("", "", "", False)
    str_, parse, today_text = str, dt.date.fromisoformat, today.isoformat()
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # The cursor is read to its end: plan for all its rows, not for the first 10% (the default for cursors
        # chose nested loops over every unit, ~3x the time of the hash joins and one sort it picks for all).
        connection.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1.0")
    with connection.execute(query.execution_options(yield_per=_EXPORT_FETCH)) as result:
        for batch in result.partitions():  # a list per fetch: no per-row fetchone
            for (name, username, org_id, title, number, issued, expires, status, pts, star, id_card,
                 phone) in batch:
                if org_id != last_org:  # rows come ordered by unit
                    last_org, place = org_id, index.place(org_id)
                if type(expires) is str_:  # ISO text sorts as the dates do
                    if status == "valid" and expires < today_text:
                        status = "expired"  # tasks run has not marked it yet
                    if not text_dates:
                        issued, expires = parse(issued), parse(expires)
                elif status == "valid" and expires < today:
                    status = "expired"
                yield certificate_cells(name, username, place[0], place[1], place[2], title, number, issued,
                                        expires, status, int(pts), int(star), id_card, phone, place[3])


def _prepare(action: str, target: str):
    """Parse filters, build the query and org index, audit; everything the stream needs, as plain values."""
    today = queries.local_today()
    filters = present.parse_filters(request.args, current_user, P.EXPORT)
    query, index = _record_query(filters, today), OrgIndex(current_user)
    _count_and_audit(action, target, filters, today, index)
    return query, index, today


def _download(body, mimetype: str, filename: str) -> Response:
    return Response(stream_with_context(body), mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})


def _stamp(today: dt.date) -> str:
    return today.strftime("%Y%m%d")


@bp.get("/certificates.xlsx")
@require(P.EXPORT)
def certificates_xlsx():
    query, index, today = _prepare("export.certificates", "certificates.xlsx")
    body = iter_xlsx(CERTIFICATE_COLUMNS, _rows(query, index, today), "证书", widths=CERTIFICATE_WIDTHS)
    return _download(body, XLSX, f"certificates-{_stamp(today)}.xlsx")


@bp.get("/certificates.csv")
@require(P.EXPORT)
def certificates_csv():
    query, index, today = _prepare("export.certificates", "certificates.csv")
    return _download(iter_csv(CERTIFICATE_COLUMNS, _rows(query, index, today, text_dates=True)),
                     "text/csv; charset=utf-8",
                     f"certificates-{_stamp(today)}.csv")


@bp.get("/certificates.zip")
@require(P.EXPORT)
def certificates_zip():
    today = queries.local_today()
    filters = present.parse_filters(request.args, current_user, P.EXPORT)
    query = (_certificate_query(filters, today).order_by(Certificate.issued_on, Certificate.id)
             .execution_options(yield_per=100))
    issuer = present.issuing_unit()
    _count_and_audit("export.certificates_pdf", "certificates.zip", filters, today)

    def items():
        for certificate in db.session.scalars(query):
            yield present.pdf_data(certificate, issuer)

    return _download(iter_many_zip(items()), "application/zip", f"certificates-{_stamp(today)}.zip")


def team_gaps(actor, org: OrgUnit | None, today: dt.date):
    """(grid, active members, qualified young members) for grids in scope without a member under 35 with 大专+."""
    cutoff = add_months(today, -35 * 12)  # born after this day = not yet 35
    active = sa.and_(User.org_id == OrgUnit.id, User.status == UserStatus.active)
    qualified = sa.and_(active, User.birth_date > cutoff, User.education.in_(HIGHER_EDUCATION))
    members = sa.select(sa.func.count(User.id)).where(active).correlate(OrgUnit).scalar_subquery()
    query = (sa.select(OrgUnit.id, OrgUnit.code, OrgUnit.name, members)
             .where(OrgUnit.kind == OrgKind.grid, scope_clause(actor, P.EXPORT, OrgUnit.path),
                    ~sa.exists().where(qualified))
             .order_by(OrgUnit.path))
    if org is not None:
        query = query.where(OrgUnit.path >= org.path, OrgUnit.path < org.path + "~")
    return query


@bp.get("/team-gaps.xlsx")
@require(P.EXPORT)
def team_gaps_xlsx():
    today = queries.local_today()
    org = None
    code = (request.args.get("org") or "").strip()
    if code:
        org = get_org(code[:32])
        if org is None:
            raise NotFound(f"组织编码 {code[:32]} 不存在")
        authorize(current_user, P.EXPORT, org)
    query = team_gaps(current_user, org, today)
    index = OrgIndex(current_user)
    rows = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    _audit("export.team_gaps", "team-gaps.xlsx", {"org": org.code if org else None, "rows": rows})

    def body_rows():
        for grid_id, code_, name, members in db.session.execute(query.execution_options(yield_per=_YIELD)):
            township, village, _ = index.names(grid_id)
            yield [township, village, code_, name, int(members or 0), 0]

    return _download(iter_xlsx(TEAM_GAP_COLUMNS, body_rows(), "网格人员结构缺口", widths=(14, 14, 14, 20, 10, 22)),
                     XLSX, f"team-gaps-{_stamp(today)}.xlsx")


def _percent(figures: dict, part: str, whole: str):
    """A rate as a percentage with one decimal, or None (an empty cell) when nothing was counted."""
    if not figures.get(whole):
        return None
    return round(100 * figures[part] / figures[whole], 1)


def trainings_rows(result: dict, start: dt.date, end: dt.date) -> list[list]:
    """TRAINING_COLUMNS rows of an org_stats result: the unit (its whole subtree) first, then each direct child."""
    parent = result["org"]["name"]
    rows = []
    for item, above in [(result, "")] + [(child, parent) for child in result["children"]]:
        unit, trainings = item["org"], item.get("trainings", {})
        courses, quizzes, drills = item.get("courses", {}), item.get("quizzes", {}), item.get("drills", {})
        rows.append([
            neutralise(unit["code"]), neutralise(unit["name"]), KIND_LABELS.get(unit["kind"], unit["kind"]),
            neutralise(above), trainings.get("sessions"), trainings.get("attendances"), trainings.get("hours"),
            courses.get("assigned"), courses.get("completed"), _percent(courses, "completed", "assigned"),
            quizzes.get("attempts"), quizzes.get("passed"), _percent(quizzes, "passed", "attempts"),
            drills.get("reports"), drills.get("returned"), _percent(drills, "returned", "reports"),
            start, end])
    return rows


@bp.get("/trainings.xlsx")
@require(P.EXPORT)
def trainings_xlsx():
    org, start, end = stats_request(request.args, P.EXPORT)
    rows = trainings_rows(org_stats(org, start, end), start, end)
    safe_code = "".join(ch for ch in org.code if ch.isascii() and (ch.isalnum() or ch in "-_")) or "org"
    filename = f"trainings-{safe_code}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"
    _audit("export.trainings", "trainings.xlsx",
           {"org": org.code, "from": start.isoformat(), "to": end.isoformat(), "rows": len(rows)})
    return _download(iter_xlsx(TRAINING_COLUMNS, rows, "培训统计", widths=TRAINING_WIDTHS), XLSX, filename)


QUIZ_RESULT_COLUMNS = ("姓名", "工号", "乡镇(街道)", "村(社区)", "网格", "最高分", "作答次数", "是否通过",
                       "最近作答", "补考次数")
QUIZ_RESULT_WIDTHS = (10, 12, 14, 14, 16, 8, 10, 10, 18, 10)


def _org_filter(perm):
    """The ?org= subtree filter, authorised for perm; None when absent; 422 for an unknown code."""
    return scoped_org(current_user, perm, request.args.get("org"))


def _plan_for_all_rows() -> None:
    """PostgreSQL: the export reads its cursor to the end; plan for all rows, not the cursor default's first 10%
    (fast-start nested loops re-ran each grouped subquery per person: 17 s instead of well under 1 s for 2,000)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1.0")


@bp.get("/quiz-results.xlsx")
@require(QUIZ_RESULTS_PERMISSION)
def quiz_results_xlsx():
    """One row per person in scope: best score, attempts, passed, last attempt (Asia/Shanghai), 补考 granted."""
    code = (request.args.get("quiz") or "").strip()[:64]
    if not code:
        raise ValidationError("请指定测验（quiz 参数）", code="quiz_required")
    quiz = get_quiz(code)
    if quiz is None:
        raise NotFound(f"测验 {code} 不存在")
    org = _org_filter(QUIZ_RESULTS_PERMISSION)
    query = quiz_results_query(quiz, scope_clause(current_user, QUIZ_RESULTS_PERMISSION, OrgUnit.path), org=org)
    index = OrgIndex(current_user)
    rows = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    title = quiz.title
    _audit("export.quiz_results", "quiz-results.xlsx", {
        "quiz": quiz.code, "quiz_title": title, "org": org.code if org else None, "rows": rows,
        "summary": f"{current_user.name} 导出了{org.name if org else '管辖范围内'}人员的测验《{title}》成绩（{rows} 行）"})

    def body_rows():
        _plan_for_all_rows()
        for (_, name, username, org_id, _org_name, best, attempts, passed, last, extra) in db.session.execute(
                query.execution_options(yield_per=_YIELD)):
            township, village, grid = index.names(org_id)
            last_local = last.astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0) if last else None
            yield [name, username, township, village, grid, None if best is None else float(best), int(attempts),
                   ("是" if passed else "否") if attempts else "未作答", last_local, int(extra)]

    safe = "".join(ch for ch in quiz.code if ch.isascii() and (ch.isalnum() or ch in "-_")) or "quiz"
    return _download(iter_xlsx(QUIZ_RESULT_COLUMNS, body_rows(), "测验成绩", widths=QUIZ_RESULT_WIDTHS), XLSX,
                     f"quiz-results-{safe}-{_stamp(queries.local_today())}.xlsx")


@bp.get("/records.xlsx")
@require(EXPORT_RECORDS)
def records_xlsx():
    """学时档案 totals, one row per person of the filtered set (org subtree, hired date range), streamed."""
    from lms.records.views import export_filters  # the form page and this download parse the same filters

    filters = export_filters(EXPORT_RECORDS)
    today = queries.local_today()
    query = totals_query(current_user, today=today, **filters)
    index = OrgIndex(current_user)
    rows = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    org = filters["org"]
    _audit("export.records", "records.xlsx", {
        "org": org.code if org else None, "rows": rows,
        "summary": f"{current_user.name} 导出了{org.name if org else '管辖范围内'}人员的学时档案汇总（{rows} 行）",
        "hired_from": filters["hired_from"].isoformat() if filters["hired_from"] else None,
        "hired_to": filters["hired_to"].isoformat() if filters["hired_to"] else None})

    def body_rows():
        _plan_for_all_rows()
        for row in db.session.execute(query.execution_options(yield_per=_YIELD)):
            yield total_cells(row, index.names(row[3]))

    return _download(iter_xlsx(TOTAL_COLUMNS, body_rows(), "学时档案汇总", widths=TOTAL_WIDTHS), XLSX,
                     f"records-{_stamp(today)}.xlsx")


def register(app) -> None:
    """Attach the exports blueprint (called by the certification feature's init_app)."""
    if "exports" not in app.blueprints:
        app.register_blueprint(bp)


