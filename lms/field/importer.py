"""Read the grid platform's event export (CSV/XLSX) row by row, streamed, and check each row; no database here.

The bounds and cell handling are lms/tabular.py's; only the row limit is larger (a county's year is some
200,000 events) and the rows are yielded one at a time instead of listed, so memory stays flat.
"""
from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from lms.db import SHANGHAI
from lms.errors import ValidationError
from lms.field.models import RESULTS
from lms.tabular import MAX_COLUMNS, TabularError, _cell_text, bounded_sheet_rows, too_many_rows

#: the export's columns (API.md, Field outcomes); 退回原因 and 满意度 may be blank
COLUMNS = ["事件编号", "工号", "上报时间", "事件类型", "结果", "退回原因", "满意度"]
REQUIRED = ["事件编号", "工号", "上报时间", "事件类型", "结果"]
#: the most data rows one file may hold: a large county's year with room to spare; past it, split the file
MAX_EVENT_ROWS = 1_000_000

_STAMP = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T](\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2}))?"
                    r"(?:\.\d+)?秒?)?$")


@dataclasses.dataclass(frozen=True)
class EventRow:
    """One checked row: the 工号 is still to be matched."""

    number: str
    username: str
    reported_at: dt.datetime  # aware UTC
    event_type: str
    result: str
    return_reason: str | None
    satisfaction: int | None


def parse_time(text: str) -> dt.datetime | None:
    """上报时间 in Beijing time ("2026-03-01 08:30", "2026/3/1 8:30:05", "2026-03-01") → aware UTC; None if unreadable."""
    text = text.strip()
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":  # the export's own shape: the C parser first
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            return (value if value.tzinfo else value.replace(tzinfo=SHANGHAI)).astimezone(dt.timezone.utc)
    match = _STAMP.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    try:
        local = dt.datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)
    except ValueError:
        return None
    return local.astimezone(dt.timezone.utc)


def parse_row(raw: dict[str, str], now: dt.datetime) -> EventRow:
    """Check one row's cells; raises ValidationError naming the first problem (in Chinese)."""
    number = raw.get("事件编号", "").strip()
    if not number:
        raise ValidationError("事件编号为空")
    if len(number) > 64:
        raise ValidationError("事件编号超过 64 个字符")
    username = raw.get("工号", "").strip()
    if not username:
        raise ValidationError(f"事件 {number}：工号为空")
    if len(username) > 64:
        raise ValidationError(f"事件 {number}：工号超过 64 个字符")
    stamp_text = raw.get("上报时间", "").strip()
    if not stamp_text:
        raise ValidationError(f"事件 {number}：上报时间为空")
    reported_at = parse_time(stamp_text)
    if reported_at is None:
        raise ValidationError(f"事件 {number}：上报时间“{stamp_text[:40]}”无法识别，请写成 2026-03-01 08:30")
    if reported_at > now:
        raise ValidationError(f"事件 {number}：上报时间 {stamp_text[:40]} 在将来")
    event_type = raw.get("事件类型", "").strip()
    if not event_type:
        raise ValidationError(f"事件 {number}：事件类型为空")
    if len(event_type) > 64:
        raise ValidationError(f"事件 {number}：事件类型超过 64 个字符")
    result = raw.get("结果", "").strip()
    if result not in RESULTS:
        shown = f"“{result[:20]}”" if result else "为空"
        raise ValidationError(f"事件 {number}：结果{shown}不对，应为{'、'.join(RESULTS)}之一")
    reason = raw.get("退回原因", "").strip() or None
    if result == "退回" and reason is None:
        raise ValidationError(f"事件 {number}：结果为退回，但退回原因为空")
    if reason is not None and len(reason) > 32:
        raise ValidationError(f"事件 {number}：退回原因超过 32 个字符")
    if result != "退回":
        reason = None  # the platform repeats the last reason on events later closed: only returns carry one
    satisfaction_text = raw.get("满意度", "").strip()
    satisfaction = None
    if satisfaction_text:
        if satisfaction_text not in ("1", "2", "3", "4", "5"):
            raise ValidationError(f"事件 {number}：满意度“{satisfaction_text[:20]}”不对，应为 1 到 5 的整数或留空")
        satisfaction = int(satisfaction_text)
    return EventRow(number, username, reported_at, event_type, result, reason, satisfaction)


def _header(raw: Iterable) -> list[str]:
    header = [_cell_text(h).lstrip("\ufeff") for h in raw]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise TabularError(f"第 1 行表头缺少列：{'、'.join(missing)}（应为：{','.join(COLUMNS)}）")
    return header


def _numbered(raw_rows: Iterator, *, max_rows: int) -> Iterator[tuple[int, dict[str, str]]]:
    first = next(raw_rows, None)
    if first is None:
        raise TabularError("文件是空的：第 1 行应为表头")
    header = _header(first)
    for number, raw in enumerate(raw_rows, start=2):
        if number > max_rows + 1:
            if any(_cell_text(c) for c in raw):
                raise TabularError(too_many_rows(max_rows))
            continue
        cells = [c.strip() if type(c) is str else _cell_text(c) for c in raw]
        if not any(cells):
            continue
        yield number, {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header) if name}


def _encoding(stream: BinaryIO) -> str:
    """utf-8 (with or without BOM) or GB18030, found by decoding the whole file once without keeping the text."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        encoding = "gb18030"
    stream.seek(0)
    if encoding == "gb18030":
        decoder = codecs.getincrementaldecoder("gb18030")()
        try:
            while chunk := stream.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise TabularError("文件编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV，或 XLSX") from None
        stream.seek(0)
    return encoding


def _csv_rows(stream: BinaryIO) -> Iterator[list[str]]:
    text = io.TextIOWrapper(stream, encoding=_encoding(stream), newline="")
    number = 0
    try:
        for number, row in enumerate(csv.reader(text), start=1):
            yield row[:MAX_COLUMNS]
    except csv.Error as exc:
        raise TabularError(f"CSV 文件第 {number + 1} 行无法读取（{exc}）：请用 Excel 另存为 CSV 或 XLSX") from None
    finally:
        try:
            text.detach()  # leave the caller's stream open
        except ValueError:  # already closed (collected after its stream)
            pass


def _xlsx_rows(stream: BinaryIO, max_rows: int) -> Iterator[tuple]:
    from openpyxl import load_workbook  # late: only XLSX imports pay for openpyxl
    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise TabularError(f"无法读取 XLSX 文件：{exc.__class__.__name__}，请确认文件未损坏") from None
    try:
        yield from bounded_sheet_rows(workbook.worksheets[0], max_rows=max_rows)
    finally:
        workbook.close()


def read_events(stream: BinaryIO, filename: str, *, max_rows: int = MAX_EVENT_ROWS
                ) -> Iterator[tuple[int, dict[str, str]]]:
    """The export's rows as (row number, {header: text}), one at a time; stream must be seekable.

    Raises TabularError (bad type, encoding, header, too many rows) — the header before any row is yielded.
    """
    suffix = Path(filename).suffix.lower()
    if suffix == ".xlsx":
        raw = _xlsx_rows(stream, max_rows)
    elif suffix in (".csv", ".txt"):
        raw = _csv_rows(stream)
    else:
        raise TabularError(f"不支持的文件类型“{suffix or filename}”：请使用 .csv 或 .xlsx")
    return _numbered(iter(raw), max_rows=max_rows)


def check_header(stream: BinaryIO, filename: str) -> None:
    """Raise TabularError now when the file cannot be read or lacks a column (the upload page's first check)."""
    rows = read_events(stream, filename)
    next(rows, None)
    stream.seek(0)
