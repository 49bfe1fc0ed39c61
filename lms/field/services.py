"""Writes of the field feature: importing the grid platform's event outcomes (idempotent by 事件编号, audited)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa

from lms.accounts.models import User
from lms.audit.services import record
from lms.db import local, utcnow
from lms.errors import ValidationError
from lms.extensions import db
from lms.field.importer import EventRow, parse_row, read_events
from lms.field.models import FieldEvent, FieldImport

#: rows checked and written together (one SELECT of known numbers, one of 工号, one multi-row INSERT)
BATCH = 2000
#: row errors kept with their message; past it only counted (a wrong file must not fill the memory)
MAX_LISTED_ERRORS = 1000


@dataclasses.dataclass
class FieldReport:
    filename: str
    added: int = 0
    unchanged: int = 0
    error_count: int = 0
    #: (row, message), the first MAX_LISTED_ERRORS of them, in row order
    errors: list[tuple[int, str]] = dataclasses.field(default_factory=list)
    #: 工号 not found → how many rows carried it (those rows are not stored)
    unknown: dict[str, int] = dataclasses.field(default_factory=dict)
    import_id: int | None = None

    def error(self, row: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append((row, message))

    @property
    def summary(self) -> str:
        return f"新增 {self.added}，未变 {self.unchanged}，错误 {self.error_count}"

    @property
    def error_lines(self) -> list[str]:
        lines = [f"第 {row} 行：{message}" for row, message in self.errors]
        if self.error_count > len(self.errors):
            lines.append(f"……另有 {self.error_count - len(self.errors)} 行错误未列出")
        return lines

    def counts(self) -> dict:
        return {"added": self.added, "unchanged": self.unchanged, "errors": self.error_count}

    def as_json(self) -> dict:
        return {**self.counts(), "unknown_usernames": [{"username": k, "rows": v} for k, v in self.unknown.items()],
                "error_list": [{"row": r, "message": m} for r, m in self.errors]}


def _content(row: EventRow, user_id: int) -> tuple:
    return (user_id, row.reported_at, row.event_type, row.result, row.return_reason, row.satisfaction)


_FIELD_LABELS = ("工号", "上报时间", "事件类型", "结果", "退回原因", "满意度")


def _changed_labels(new: tuple, old: tuple) -> str:
    return "、".join(label for label, a, b in zip(_FIELD_LABELS, new, old, strict=True) if a != b)


class _Batch:
    def __init__(self, report: FieldReport, import_id: int, users: dict[str, tuple[int, int] | None]):
        self.report = report
        self.import_id = import_id
        #: 工号 → (user id, org id), or None when unknown; filled lazily, per batch
        self.users = users
        self.rows: list[tuple[int, EventRow]] = []

    def flush(self, now: dt.datetime) -> None:
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        wanted = {r.username for _, r in rows if r.username not in self.users}
        if wanted:
            found = {name: (uid, oid) for name, uid, oid in db.session.execute(
                sa.select(User.username, User.id, User.org_id).where(_among(User.username, wanted)))}
            for name in wanted:
                self.users[name] = found.get(name)
        numbers = {r.number for _, r in rows}
        stored = {e.number: (e.user_id, e.reported_at, e.event_type, e.result, e.return_reason, e.satisfaction)
                  for e in db.session.execute(sa.select(
                      FieldEvent.number, FieldEvent.user_id, FieldEvent.reported_at, FieldEvent.event_type,
                      FieldEvent.result, FieldEvent.return_reason, FieldEvent.satisfaction)
                      .where(_among(FieldEvent.number, numbers)))}
        stored = {k: _normalise(v) for k, v in stored.items()}
        #: number → (row, content) of rows of this batch about to be inserted
        pending: dict[str, tuple[int, tuple]] = {}
        inserts = []
        for number, row in rows:
            user = self.users.get(row.username)
            if user is None:
                self.report.unknown[row.username] = self.report.unknown.get(row.username, 0) + 1
                self.report.error(number, f"事件 {row.number}：工号 {row.username} 不存在，未导入")
                continue
            content = _content(row, user[0])
            if row.number in stored:
                if stored[row.number] == content:
                    self.report.unchanged += 1
                else:
                    self.report.error(number, f"事件编号 {row.number} 已导入过，内容不同"
                                              f"（{_changed_labels(content, stored[row.number])}）：保留先导入的记录")
                continue
            if row.number in pending:
                first, first_content = pending[row.number]
                if first_content == content:
                    self.report.unchanged += 1
                else:
                    self.report.error(number, f"事件编号 {row.number} 与第 {first} 行重复，内容不同"
                                              f"（{_changed_labels(content, first_content)}）：保留第 {first} 行")
                continue
            pending[row.number] = (number, content)
            inserts.append({"number": row.number, "user_id": user[0], "org_id": user[1],
                            "reported_at": row.reported_at, "event_type": row.event_type, "result": row.result,
                            "return_reason": row.return_reason, "satisfaction": row.satisfaction,
                            "import_id": self.import_id, "created_at": now})
        if inserts:
            _insert(inserts)
            self.report.added += len(inserts)


def _among(column, values) -> sa.ColumnElement:
    """column IN values; on PostgreSQL as = ANY(one array parameter): a batch's 2,000 placeholders cost more to
    send and parse than the lookup itself."""
    values = list(values)
    if db.session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, values, type_=sa.ARRAY(sa.String(64))))
    return column.in_(values)


_COPY_COLUMNS = ("number", "user_id", "org_id", "reported_at", "event_type", "result", "return_reason",
                 "satisfaction", "import_id", "created_at")


def _insert(rows: list[dict]) -> None:
    """Insert a batch: COPY on PostgreSQL (a tenth of the server's work of INSERTs), else a Core executemany
    on the table (the ORM's bulk insert would split the batch wherever a None moves)."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(sa.insert(FieldEvent.__table__), rows)
        return
    utc = dt.timezone.utc
    with connection.connection.dbapi_connection.cursor() as cursor, cursor.copy(
            f"COPY field_events ({', '.join(_COPY_COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            # UTCDateTime stores naive UTC: the same conversion its bind processor makes
            copy.write_row([row["number"], row["user_id"], row["org_id"],
                            row["reported_at"].astimezone(utc).replace(tzinfo=None), row["event_type"],
                            row["result"], row["return_reason"], row["satisfaction"], row["import_id"],
                            row["created_at"].astimezone(utc).replace(tzinfo=None)])


def _normalise(content: tuple) -> tuple:
    user_id, reported_at, *rest = content
    if reported_at is not None and reported_at.tzinfo is None:
        reported_at = reported_at.replace(tzinfo=dt.timezone.utc)
    return (user_id, reported_at, *rest)


def import_rows(rows: Iterable[tuple[int, dict[str, str]]], filename: str, *, actor=None, source: str = "cli",
                client_addr: str = "", now=None) -> FieldReport:
    """Store the good rows of an export (numbered rows of {column: text}); bad rows reported, nothing dropped
    silently. Idempotent by 事件编号: the same content again is 未变, different content is a row error and the
    first stored stays. Audited once for the file. Never commits (the caller does)."""
    now = now or utcnow()
    filename = Path(filename).name[:200] or "导入"
    run = FieldImport(actor_id=getattr(actor, "id", None), filename=filename, source=source, created_at=now)
    db.session.add(run)
    db.session.flush()
    report = FieldReport(filename=filename, import_id=run.id)
    batch = _Batch(report, run.id, {})
    for number, raw in rows:
        try:
            parsed = parse_row(raw, now)
        except ValidationError as exc:
            report.error(number, exc.message)
            continue
        batch.rows.append((number, parsed))
        if len(batch.rows) >= BATCH:
            batch.flush(now)
    batch.flush(now)
    report.errors.sort()
    run.result = {**report.counts(), "unknown": len(report.unknown)}
    actor_name = getattr(actor, "name", None) or "系统"
    record("field.import", actor=actor, target_type="field_import", target=filename, now=now,
           client_addr=client_addr,
           details={**report.counts(), "file": filename, "source": source, "unknown": len(report.unknown),
                    "summary": f"{actor_name} 导入了现场上报结果《{filename}》：{report.summary}"})
    return report


def import_file(stream: BinaryIO, filename: str, *, actor=None, source: str = "cli", client_addr: str = "",
                now=None) -> FieldReport:
    """Import an export (CSV/XLSX) from a seekable binary stream, streamed. TabularError for an unreadable file
    or a wrong header, before anything is written."""
    rows = read_events(stream, filename)
    first = next(rows, None)  # reads the header: a wrong file stops here, nothing written
    return import_rows(_chain(first, rows), filename, actor=actor, source=source, client_addr=client_addr, now=now)


def _chain(first, rest: Iterator) -> Iterator:
    if first is not None:
        yield first
    yield from rest


def import_bytes(data: bytes, filename: str, **kwargs) -> FieldReport:
    return import_file(io.BytesIO(data), filename, **kwargs)


def when(value: dt.datetime) -> str:
    """上报时间 as the export writes it (Beijing time)."""
    return local(value).strftime("%Y-%m-%d %H:%M")


# --- the upload page: preview (nothing kept), then confirm ------------------------------------------------------

UPLOAD_KIND = "field"


def preview_bytes(data: bytes, filename: str, *, actor=None, now=None) -> FieldReport:
    """What importing the file would do, row by row, exactly (the import run in a savepoint rolled back)."""
    savepoint = db.session.begin_nested()
    try:
        return import_bytes(data, filename, actor=actor, source="preview", now=now)
    finally:
        savepoint.rollback()


def confirm_upload(actor, upload, *, client_addr: str = "", now=None) -> FieldReport:
    """Import a previewed upload (checked again: the database may have changed since); the file is dropped."""
    now = now or utcnow()
    if upload.applied_at is not None or upload.data is None:
        raise ValidationError("这份文件已经导入过（或已过期），请重新上传", code="already_applied")
    report = import_bytes(upload.data, upload.filename, actor=actor, source="upload", client_addr=client_addr,
                          now=now)
    upload.applied_at = now
    upload.data = None
    upload.result = {**report.counts(), "error_count": report.error_count,
                     "errors": [[r, m] for r, m in report.errors],
                     "unknown": [[k, v] for k, v in report.unknown.items()]}
    return report
