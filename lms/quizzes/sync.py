"""Importing question banks and quizzes into the database: `content import` and `content import-bank`.

Files are the source of truth for file-origin items: an unchanged file (same
sha256) is skipped before parsing; a changed question gets a new version; a
question or bank gone from the files is retired (no new draws), never
deleted; items created or edited in the browser (origin web) are never touched.
"""
from __future__ import annotations

import collections
import hashlib
import io
import re
from pathlib import Path

import sqlalchemy as sa

from lms.contentfile import ContentError, ContentErrors, missing_org_error
from lms.db import SHANGHAI, utcnow
from lms.extensions import db
from lms.org.queries import get_org, get_root
from lms.quizzes.draw import check_draws
from lms.quizzes.formats import parse_question_file
from lms.quizzes.formats.quiz_file import paper_errors, parse_quiz
from lms.quizzes.formats.yaml_bank import CODE_RE, check_unique_ids, parse_bank
from lms.quizzes.models import Bank, Origin, Question, Quiz
from lms.quizzes.questions import answer_to_json
from lms.quizzes.services import question_value

#: YAML files in question_bank/ that are not banks (API.md).
#: YAML files at the top of question_bank/ that are not question banks (drill lists, the field-needs map)
NOT_BANKS = {"taxonomy.yaml", "field_needs.yaml"}
KIND_BANK = "题库"
KIND_QUESTION = "题目"
KIND_QUIZ = "测验"


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _decode(data: bytes, rel: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ContentErrors([ContentError(rel, 1, "文件不是 UTF-8 编码，请另存为 UTF-8")]) from None


def _key_line(text: str, key: str) -> int:
    """Line of a top-level ``key:`` (the parsers' values carry no line for it); 1 when absent."""
    match = re.search(rf"^{re.escape(key)}\s*:", text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def _question_values(question, bank_id: int, now) -> dict:
    return {
        "qid": question.id, "bank_id": bank_id, "type": question.type, "stem": question.stem,
        "text_format": question.text_format, "options": dict(question.options),
        "answer": answer_to_json(question.type, question.answer), "explanation": question.explanation,
        "source": question.source, "difficulty": question.difficulty, "tags": list(question.tags),
        "content_hash": question.fingerprint(), "updated_at": now,
    }


def _apply(row: Question, values: dict) -> bool:
    """Write changed content into a row; True when something changed (then the version rises)."""
    changed = row.content_hash != values["content_hash"]
    for key, value in values.items():
        if key in ("qid", "updated_at"):
            continue
        setattr(row, key, value)
    if changed:
        row.version += 1
        row.updated_at = values["updated_at"]
    return changed


# --- content import: banks ---------------------------------------------------------------------------------

def import_banks(ctx, report) -> None:
    """Importer 20: question_bank/*.yaml."""
    folder = Path(ctx.questions_dir)
    files = sorted(p for p in folder.glob("*.yaml") if p.name not in NOT_BANKS) if folder.is_dir() else []
    banks = {b.code: b for b in db.session.execute(sa.select(Bank)).scalars()}
    code_by_id = {b.id: b.code for b in banks.values()}
    live_counts = dict(db.session.execute(
        sa.select(Question.bank_id, sa.func.count()).where(Question.is_retired.is_(False),
                                                           Question.origin == Origin.file)
        .group_by(Question.bank_id)).all())

    parsed = []
    for path in files:
        data = path.read_bytes()
        digest = file_hash(data)
        bank = banks.get(path.stem)
        if (bank is not None and bank.origin == Origin.file and not bank.is_retired
                and bank.content_hash == digest):
            report.count(KIND_BANK, "unchanged")
            report.count(KIND_QUESTION, "unchanged", live_counts.get(bank.id, 0))
            continue
        rel = ctx.relative(path)
        try:
            text = _decode(data, rel)
            parsed.append((text, digest, parse_bank(text, rel, expected_code=path.stem)))
        except ContentErrors as exc:
            report.reject(exc)

    bad_paths = collections.defaultdict(list)
    for error in check_unique_ids([b for _, _, b in parsed]):
        bad_paths[error.path].append(error)
    for path, errors in bad_paths.items():
        report.reject(ContentErrors(errors))
    parsed = [item for item in parsed if item[2].path not in bad_paths]

    # A question may move between two banks re-imported together; otherwise its id stays where it is.
    ids_in_files = {b.code: {q.id for q in b.questions} for _, _, b in parsed}
    owner = dict(db.session.execute(sa.select(Question.qid, Question.bank_id)).all())
    root = get_root()
    for text, digest, parsed_bank in parsed:
        try:
            with db.session.begin_nested():
                _sync_bank(ctx, report, text, digest, parsed_bank, banks, code_by_id, ids_in_files, owner, root)
        except ContentErrors as exc:
            report.reject(exc)

    present = {p.stem for p in files}
    for bank in banks.values():
        if bank.origin == Origin.file and not bank.is_retired and bank.code not in present:
            bank.is_retired = True
            result = db.session.execute(
                sa.update(Question).where(Question.bank_id == bank.id, Question.origin == Origin.file,
                                          Question.is_retired.is_(False)).values(is_retired=True)
                .execution_options(synchronize_session=False))
            report.count(KIND_BANK, "retired")
            report.count(KIND_QUESTION, "retired", result.rowcount)
    db.session.flush()


def _sync_bank(ctx, report, text, digest, parsed_bank, banks, code_by_id, ids_in_files, owner, root) -> None:
    now = ctx.now
    path = parsed_bank.path
    errors = []
    org = get_org(parsed_bank.org) if parsed_bank.org else root
    if org is None:
        errors.append(missing_org_error(path, _key_line(text, "org"), parsed_bank.org))
    bank = banks.get(parsed_bank.code)
    if bank is not None and bank.origin == Origin.web:
        report.notes.append(f"{path}: 题库 {bank.code} 是在网页中创建的，导入时跳过")
        report.count(KIND_BANK, "skipped")
        return
    for question in parsed_bank.questions:
        other = owner.get(question.id)
        if other is None or (bank is not None and other == bank.id):
            continue
        other_code = code_by_id.get(other)
        if other_code in ids_in_files and question.id not in ids_in_files[other_code]:
            continue
        errors.append(ContentError(path, question.line,
                                   f"题目编号 {question.id} 已在题库 {other_code} 中使用，编号必须在所有题库中唯一"))
    if errors:
        raise ContentErrors(errors)
    if org is None:
        raise ContentErrors([ContentError(path, 1, "还没有组织架构：请先导入组织（flask org import）")])

    if bank is None:
        bank = Bank(code=parsed_bank.code, title=parsed_bank.title, org=org, origin=Origin.file,
                    content_hash=digest, updated_at=now)
        db.session.add(bank)
        db.session.flush()
        banks[bank.code] = bank
        code_by_id[bank.id] = bank.code
        report.count(KIND_BANK, "new")
    else:
        report.count(KIND_BANK, "unchanged" if (bank.title, bank.org_id, bank.is_retired) == (
            parsed_bank.title, org.id, False) else "updated")
        bank.title, bank.org, bank.content_hash, bank.is_retired, bank.updated_at = (
            parsed_bank.title, org, digest, False, now)

    file_ids = ids_in_files[parsed_bank.code]
    rows = {row.qid: row for row in db.session.execute(
        sa.select(Question).where(sa.or_(Question.bank_id == bank.id, Question.qid.in_(file_ids)))).scalars()}
    new_rows = []
    for question in parsed_bank.questions:
        values = _question_values(question, bank.id, now)
        row = rows.get(question.id)
        if row is None:
            new_rows.append(values | {"origin": Origin.file, "version": 1, "is_retired": False})
            continue
        if row.origin == Origin.web:
            report.notes.append(f"{path}:{question.line}: 题目 {question.id} 已在网页中编辑，导入时跳过")
            report.count(KIND_QUESTION, "skipped")
            continue
        moved_or_revived = row.is_retired or row.bank_id != bank.id
        changed = _apply(row, values)
        row.is_retired = False
        report.count(KIND_QUESTION, "updated" if changed or moved_or_revived else "unchanged")
    if new_rows:
        db.session.execute(sa.insert(Question), new_rows)
        report.count(KIND_QUESTION, "new", len(new_rows))
    for qid, row in rows.items():
        if row.bank_id == bank.id and row.origin == Origin.file and not row.is_retired and qid not in file_ids:
            row.is_retired = True
            row.updated_at = now
            report.count(KIND_QUESTION, "retired")
    db.session.flush()


# --- content import: quizzes -------------------------------------------------------------------------------

class _PoolItem:
    """Just what check_draws reads of a question."""

    __slots__ = ("id", "tags", "difficulty")

    def __init__(self, qid, tags, difficulty):
        self.id, self.tags, self.difficulty = qid, tuple(tags or ()), difficulty


def live_pools() -> dict[str, list]:
    """Bank code → its live questions (id, tags, difficulty), for checking draw rules."""
    pools: dict[str, list] = {code: [] for code in db.session.execute(
        sa.select(Bank.code).where(Bank.is_retired.is_(False))).scalars()}
    rows = db.session.execute(
        sa.select(Bank.code, Question.qid, Question.tags, Question.difficulty).join(Bank, Bank.id == Question.bank_id)
        .where(Bank.is_retired.is_(False), Question.is_retired.is_(False)))
    for code, qid, tags, difficulty in rows:
        pools[code].append(_PoolItem(qid, tags, difficulty))
    return pools


def draw_errors(draws, pools, path: str) -> list[ContentError]:
    """Each unsatisfiable draw rule as path:line (check_draws on growing prefixes tells which rule)."""
    errors, before = [], 0
    for index, draw in enumerate(draws):
        problems = check_draws(draws[: index + 1], pools)
        for problem in problems[before:]:
            errors.append(ContentError(path, draw.line or 1, problem))
        before = len(problems)
    return errors


def _draws_json(spec) -> list[dict]:
    return [{"bank": d.bank, "count": d.count, "tags": list(d.tags), "difficulty": list(d.difficulty)}
            for d in spec.draws]


def import_quizzes(ctx, report) -> None:
    """Importer 30: question_bank/quizzes/*.yaml; publishes ``ctx.known["quiz_codes"]``."""
    folder = Path(ctx.questions_dir) / "quizzes"
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    quizzes = {q.code: q for q in db.session.execute(sa.select(Quiz)).scalars()}
    pools = None
    root = get_root()
    for path in files:
        data = path.read_bytes()
        digest = file_hash(data)
        quiz = quizzes.get(path.stem)
        if quiz is not None and quiz.origin == Origin.file and not quiz.is_retired and quiz.content_hash == digest:
            report.count(KIND_QUIZ, "unchanged")
            continue
        rel = ctx.relative(path)
        try:
            text = _decode(data, rel)
            spec = parse_quiz(text, rel, expected_code=path.stem)
            if quiz is not None and quiz.origin == Origin.web:
                report.notes.append(f"{rel}: 测验 {quiz.code} 是在网页中创建的，导入时跳过")
                report.count(KIND_QUIZ, "skipped")
                continue
            if pools is None:
                pools = live_pools()
            errors = draw_errors(spec.draws, pools, rel) + paper_errors(
                spec, {item.id for items in pools.values() for item in items}, rel)
            org = get_org(spec.org) if spec.org else root
            if org is None:
                errors.append(missing_org_error(rel, _key_line(text, "org"), spec.org))
            if errors:
                raise ContentErrors(sorted(errors, key=lambda e: e.line))
            with db.session.begin_nested():
                values = {"title": spec.title, "org": org, "draws": _draws_json(spec),
                          "fixed_paper": [{"qid": item.id, "marks": item.marks} for item in spec.questions]
                          if spec.questions else None,
                          "time_limit_minutes": spec.time_limit_minutes, "pass_score": spec.pass_score,
                          "max_attempts": spec.max_attempts, "shuffle_options": spec.shuffle_options,
                          "opens_at": spec.opens_at, "closes_at": spec.closes_at, "is_retired": False,
                          "retake_after_days": spec.retake_after_days,
                          "annual_opens": _month_day(spec.annual_window, 0),
                          "annual_closes": _month_day(spec.annual_window, 1),
                          "content_hash": digest, "updated_at": ctx.now}
                if quiz is None:
                    quiz = Quiz(code=spec.code, origin=Origin.file, **values)
                    db.session.add(quiz)
                    quizzes[quiz.code] = quiz
                    report.count(KIND_QUIZ, "new")
                else:
                    for key, value in values.items():
                        setattr(quiz, key, value)
                    report.count(KIND_QUIZ, "updated")
                db.session.flush()
        except ContentErrors as exc:
            report.reject(exc)

    present = {p.stem for p in files}
    for quiz in quizzes.values():
        if quiz.origin == Origin.file and not quiz.is_retired and quiz.code not in present:
            quiz.is_retired = True
            report.count(KIND_QUIZ, "retired")
    db.session.flush()
    ctx.known["quiz_codes"] = {q.code for q in quizzes.values() if not q.is_retired}


def _month_day(window, index: int) -> str | None:
    """"MM-DD" of a quiz file's annual_window end (0: opens, 1: closes), or None."""
    return f"{window[index][0]:02d}-{window[index][1]:02d}" if window else None


# --- content import-bank -----------------------------------------------------------------------------------

def default_bank_title(filename: str, now) -> str:
    """A Chinese name for a bank imported without one: the file's name when it reads as words, else the date."""
    stem = Path(str(filename or "")).stem.strip()
    if stem and not stem.isascii():
        return stem[:100]
    day = now.astimezone(SHANGHAI).date()
    return f"导入的题库（{day.year}年{day.month}月{day.day}日）"


#: sheet names spreadsheet programs give by themselves (and the template's): not a bank's name
_DEFAULT_SHEETS = frozenset({"题目", "sheet1", "工作表1", "sheet", "表1"})


def suggested_bank_title(data: bytes, filename: str, now) -> str:
    """A new bank's Chinese name from its file: the first sheet's name when someone named it (冬季供暖政策),
    else the file's name when it reads as words, else the import date; never the file's ASCII stem."""
    if str(filename or "").lower().endswith(".xlsx"):
        try:
            from openpyxl import load_workbook  # noqa: PLC0415 (only Excel imports need it)
            workbook = load_workbook(io.BytesIO(data), read_only=True)
            try:
                sheet = workbook.sheetnames[0] if workbook.sheetnames else ""
            finally:
                workbook.close()
        except Exception:  # noqa: BLE001 (a broken file is reported by the import itself)
            sheet = ""
        if sheet.strip() and sheet.strip().lower() not in _DEFAULT_SHEETS and not sheet.isascii():
            return sheet.strip()[:100]
    return default_bank_title(filename, now)


def import_question_file(data: bytes, filename: str, bank_code: str, fmt: str | None = None, *, org=None,
                         now=None, title: str | None = None) -> tuple[dict, list[ContentError]]:
    """Import a trainer's question file (xlsx/gift/aiken) into a bank: (counts, warnings).

    All or nothing: any malformed question raises ContentErrors and nothing is
    imported. A missing bank is created (origin web, owned by ``org`` or the
    root); questions imported this way are web-origin, so `content import` leaves them alone.
    """
    now = now or utcnow()
    if not isinstance(bank_code, str) or not CODE_RE.match(bank_code):
        raise ContentErrors([ContentError(filename, 1, f"题库编码 {bank_code!r} 无效：只能用小写字母、数字、连字符和下划线")])
    owner = dict(db.session.execute(sa.select(Question.qid, Question.bank_id)).all())
    questions, warnings = parse_question_file(data, filename, bank_code, fmt, existing_ids=frozenset(owner))
    bank = db.session.execute(sa.select(Bank).where(Bank.code == bank_code)).scalar_one_or_none()
    errors = [ContentError(filename, q.line, f"题目编号 {q.id} 已在其他题库中使用，编号必须在所有题库中唯一")
              for q in questions if q.id in owner and (bank is None or owner[q.id] != bank.id)]
    if errors:
        raise ContentErrors(errors)
    if bank is None:
        org = org or get_root()
        if org is None:
            raise ContentErrors([ContentError(filename, 1, "还没有组织架构：请先导入组织（flask org import）")])
        bank = Bank(code=bank_code, title=(title or "").strip()[:200] or default_bank_title(filename, now), org=org,
                    origin=Origin.web, updated_at=now)
        db.session.add(bank)
        db.session.flush()
    elif bank.is_retired:
        bank.is_retired = False
    counts = collections.Counter()
    rows = {row.qid: row for row in db.session.execute(
        sa.select(Question).where(Question.qid.in_([q.id for q in questions]))).scalars()}
    new_rows = []
    for question in questions:
        values = _question_values(question, bank.id, now)
        row = rows.get(question.id)
        if row is None:
            new_rows.append(values | {"origin": Origin.web, "version": 1, "is_retired": False})
            counts["new"] += 1
            continue
        changed = _apply(row, values)
        if changed or row.is_retired:
            row.origin = Origin.web
            row.is_retired = False
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    if new_rows:
        db.session.execute(sa.insert(Question), new_rows)
    bank.updated_at = now
    db.session.flush()
    return dict(counts), warnings


def bank_questions(bank: Bank) -> list:
    """The bank's live questions as pure values, in id order (for export)."""
    rows = db.session.execute(sa.select(Question).where(Question.bank_id == bank.id, Question.is_retired.is_(False))
                              .order_by(Question.qid)).scalars()
    return [question_value(row) for row in rows]
