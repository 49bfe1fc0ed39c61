"""Parse the free-text time a grid worker types into a drill report.

Workers write times the way they speak: ``6月3日晚10点左右``, ``昨晚十点多``,
``2026-06-03 22:10``. ``parse_time`` turns such text into an aware range in
Asia/Shanghai, resolving relative words (昨晚, 前天) against the story's
reference time, and says how precise the text was, so a rule can tell the
worker exactly what to add.

Conventions (documented because they are judgement calls):

* A date without a year takes the year that puts it closest to the reference
  time (``12月31日`` written on 2 January means last year); a bare ``3号``
  likewise takes the closest month.
* A time without any date word is placed on the reference day, or the day
  before when that would be in the future; ``has_date`` is then False, because
  a report needs the day spelled out.
* After 晚上/夜里/半夜/深夜, hours 1–4 and 12 fall after midnight, on the next
  day: ``昨天夜里两点`` is 02:00 of the reference day.
* ``is_specific`` requires a date (absolute or relative) and at least an
  hour; a part of day (``昨天下午``) is not enough, following the county rule
  that the time be given down to the hour and minute (and never as 昨晚).
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata
from datetime import date, datetime, timedelta, timezone, tzinfo

try:  # tzdata may be absent on a minimal intranet box; China has no DST since 1991.
    from zoneinfo import ZoneInfo

    SHANGHAI: tzinfo = ZoneInfo("Asia/Shanghai")
except Exception:  # pragma: no cover - depends on the host
    SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

PRECISIONS = ("minute", "hour", "part_of_day", "day", "vague")

# Longer texts are not times; cutting keeps regex work bounded on odd input.
MAX_TIME_TEXT = 200

_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
           "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_NUMERAL_CHARS = "零〇○一二两三四五六七八九十百千万"


def cn_to_int(text: str) -> int | None:
    """Value of a Chinese or Arabic integer (``二十三``, ``两百``, ``23``); None if not one."""
    if not isinstance(text, str) or not text:
        return None
    text = unicodedata.normalize("NFKC", text)
    if text.isascii() and text.isdigit():
        return int(text)
    if all(ch in _DIGITS for ch in text):
        if len(text) == 1:
            return _DIGITS[text]
        # 二〇二六 is positional; a pair such as 三四 means "three or four".
        if len(text) >= 3:
            return int("".join(str(_DIGITS[ch]) for ch in text))
        return None
    total = section = 0
    number: int | None = None
    previous = ""
    for ch in text:
        if ch in _DIGITS:
            if previous == "digit":
                return None
            number = _DIGITS[ch]
            previous = "zero" if number == 0 else "digit"
        elif ch in _UNITS:
            if previous == "unit" and number is None:
                return None
            section += (1 if number is None else number) * _UNITS[ch]
            number = None
            previous = "unit"
        elif ch == "万":
            if previous == "":
                return None
            section += number or 0
            total += section * 10000
            section, number, previous = 0, None, "unit"
        else:
            return None
    return total + section + (number or 0)


@dataclasses.dataclass(frozen=True)
class ParsedTime:
    """A time range read from text: [start, end) in Asia/Shanghai, and how precise it was."""

    start: datetime
    end: datetime
    precision: str  # one of PRECISIONS
    at: datetime  # the instant as written (start for coarser precisions)
    approximate: bool = False  # 左右/多/许/约/大概
    has_date: bool = True  # a day was written (absolute or relative)

    def describe(self) -> str:
        """Human form of the normalised time, e.g. ``2026年6月3日 22:10（约）``."""
        day = f"{self.at.year}年{self.at.month}月{self.at.day}日"
        if self.precision in ("minute", "hour"):
            text = f"{day} {self.at:%H:%M}"
        elif self.precision == "part_of_day":
            text = f"{day} {self.start:%H:%M}—{self.end:%H:%M}"
        elif self.precision == "day":
            text = day
        else:
            text = f"{self.start:%Y-%m-%d}—{self.end:%Y-%m-%d}（模糊）"
        return text + ("（约）" if self.approximate else "")


def is_specific(parsed: ParsedTime | None) -> bool:
    """True when the time names a day and at least the hour (see module doc)."""
    return parsed is not None and parsed.has_date and parsed.precision in ("minute", "hour")


_N = r"(?:\d{1,2}|[零〇○一二两三四五六七八九十]{1,3})"
_YEAR = r"(?P<y>\d{4}|[零〇○一二三四五六七八九]{4})"

_YMD = re.compile(_YEAR + r"\s*[-/.年]\s*(?P<mo>" + _N + r")\s*[-/.月]\s*(?P<d>" + _N + r")\s*[日号]?")
_MD = re.compile(r"(?P<mo>" + _N + r")\s*月\s*(?P<d>" + _N + r")\s*[日号]")
_D_ONLY = re.compile(r"(?<![月\d零〇○一二两三四五六七八九十])(?P<d>" + _N + r")\s*[日号](?![楼院栋幢单])")
_AGO = re.compile(r"(?P<n>\d{1,3}|[零〇○一二两三四五六七八九十半]{1,3})\s*(?P<unit>个?\s*小时|分钟|天|日)\s*(?:以)?前")
_WEEKDAY = re.compile(r"(?P<which>上个?|本|这个?)?\s*(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7])")

# Relative day words, longest first; some carry a part of day (昨晚 = 昨天 + 晚上).
_RELATIVE = [
    ("大前天", -3, None), ("前天", -2, None), ("前晚", -2, "晚上"), ("前夜", -2, "夜里"),
    ("昨天", -1, None), ("昨日", -1, None), ("昨晚", -1, "晚上"), ("昨夜", -1, "夜里"),
    ("昨早", -1, "早上"), ("今天", 0, None), ("今日", 0, None), ("今晚", 0, "晚上"),
    ("今夜", 0, "夜里"), ("今早", 0, "早上"), ("今晨", 0, "早上"), ("当晚", None, "晚上"),
    ("明天", 1, None), ("明日", 1, None), ("明早", 1, "早上"), ("明晚", 1, "晚上"),
]
_RELATIVE_RE = re.compile("|".join(re.escape(w) for w, _, _ in sorted(_RELATIVE, key=lambda r: -len(r[0]))))
_RELATIVE_MAP = {w: (off, part) for w, off, part in _RELATIVE}

# Part of day -> (start hour, length in hours) when no hour is written.
_PARTS = {
    "凌晨": (0, 6), "清晨": (5, 3), "早晨": (5, 4), "早上": (5, 4), "上午": (6, 6), "中午": (11, 2),
    "午后": (12, 4), "下午": (12, 6), "傍晚": (17, 2), "晚上": (18, 6), "晚间": (18, 6),
    "夜里": (22, 7), "夜间": (22, 7), "深夜": (22, 5), "半夜": (23, 3), "午夜": (23, 2),
    "晚": (18, 6), "夜": (22, 7), "早": (5, 4),
}
_PART_RE = re.compile("|".join(sorted(_PARTS, key=len, reverse=True)))
_EVENING = {"晚上", "晚间", "晚", "夜里", "夜间", "深夜", "半夜", "午夜", "夜"}
_AFTERNOON = {"下午", "午后", "傍晚"}

_CLOCK = re.compile(
    r"(?P<h>" + _N + r")\s*(?:"
    r"[:：]\s*(?P<mc>\d{2})"
    r"|(?:点钟?|时)\s*(?:(?P<half>半)|(?P<q>[一三])刻|(?P<m>\d{1,2}|[零〇一二三四五六七八九十]{1,3})\s*分?)?"
    r")(?P<approx>\s*(?:左右|多|许|前后))?"
)
_APPROX_PREFIX = re.compile(r"约|大约|大概|估计|差不多")
_VAGUE = re.compile(r"最近|近日|近期|近来|前几天|前些天|这几天|这两天|前段时间|那天|当时|刚才|刚刚|不久前|之前|前不久")


def _num(text: str | None) -> int | None:
    return None if text is None else cn_to_int(text)


def _closest_date(ref: date, candidates: list[tuple[int, int, int]]) -> date | None:
    days = []
    for y, m, d in candidates:
        try:
            days.append(date(y, m, d))
        except ValueError:
            continue
    return min(days, key=lambda day: abs((day - ref).days)) if days else None


def _blank(text: str, match: re.Match) -> str:
    # Keep positions stable so later searches cannot join across the removed span.
    return text[: match.start()] + " " * (match.end() - match.start()) + text[match.end():]


def _find_date(text: str, ref: datetime):
    """Return (date | None, part-of-day word | None, text with the date removed, vague?)."""
    today = ref.date()
    match = _YMD.search(text)
    if match:
        y, mo, d = _num(match.group("y")), _num(match.group("mo")), _num(match.group("d"))
        day = _closest_date(today, [(y, mo, d)]) if None not in (y, mo, d) else None
        return day, None, _blank(text, match), day is None
    match = _MD.search(text)
    if match:
        mo, d = _num(match.group("mo")), _num(match.group("d"))
        if None in (mo, d):
            return None, None, _blank(text, match), True
        day = _closest_date(today, [(today.year + k, mo, d) for k in (-1, 0, 1)])
        return day, None, _blank(text, match), day is None
    match = _RELATIVE_RE.search(text)
    if match:
        offset, part = _RELATIVE_MAP[match.group(0)]
        day = None if offset is None else today + timedelta(days=offset)
        return day, part, _blank(text, match), False
    match = _AGO.search(text)
    if match and match.group("unit") in ("天", "日"):
        n = 0 if match.group("n") == "半" else _num(match.group("n"))
        if n is not None:
            return today - timedelta(days=n), None, _blank(text, match), False
    match = _WEEKDAY.search(text)
    if match:
        wd = "一二三四五六日".find(match.group("wd")) if not match.group("wd").isdigit() else int(match.group("wd")) - 1
        if match.group("wd") == "天":
            wd = 6
        monday = today - timedelta(days=today.weekday())
        which = match.group("which") or ""
        if which.startswith("上"):
            day = monday - timedelta(days=7) + timedelta(days=wd)
        elif which:
            day = monday + timedelta(days=wd)
        else:  # a bare 周三 is the most recent one, today included
            day = today - timedelta(days=(today.weekday() - wd) % 7)
        return day, None, _blank(text, match), False
    match = _D_ONLY.search(text)
    if match:
        d = _num(match.group("d"))
        if d is not None:
            months = []
            for k in (-1, 0, 1):
                y, m = divmod(today.year * 12 + today.month - 1 + k, 12)
                months.append((y, m + 1, d))
            day = _closest_date(today, months)
            if day is not None:
                return day, None, _blank(text, match), False
    return None, None, text, False


def _hour_24(hour: int, part: str | None) -> tuple[int, int] | None:
    """(hour 0-23, day shift) for an hour written after a part of day; None if impossible."""
    if not 0 <= hour <= 24:
        return None
    if hour == 24:
        return 0, 1
    if part in _EVENING:
        if hour == 12 or hour <= 4:
            return hour % 12, 1
        return (hour + 12 if hour < 12 else hour), 0
    if part in _AFTERNOON:
        return (hour + 12 if hour < 12 else hour), 0
    if part == "中午":
        return (hour + 12 if 1 <= hour <= 4 else hour), 0
    if part == "凌晨" and hour == 12:
        return 0, 0
    return hour, 0


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def parse_time(text, reference: datetime) -> ParsedTime | None:
    """Read a Chinese or ISO time from text against reference (the story's now); None if unreadable."""
    if not isinstance(text, str):
        return None
    text = unicodedata.normalize("NFKC", text)[:MAX_TIME_TEXT].strip()
    if not text:
        return None
    if reference.tzinfo is None:
        reference = reference.replace(tzinfo=SHANGHAI)
    ref = reference.astimezone(SHANGHAI)

    # "3小时前" / "20分钟前" name an instant directly.
    match = _AGO.search(text)
    if match and match.group("unit") not in ("天", "日"):
        n = 0.5 if match.group("n") == "半" else _num(match.group("n"))
        if n is not None:
            hours = "时" in match.group("unit")
            delta = timedelta(hours=n) if hours else timedelta(minutes=n)
            at = (ref - delta).replace(second=0, microsecond=0)
            precision = "hour" if hours else "minute"
            span = timedelta(hours=1) if hours else timedelta(minutes=1)
            return ParsedTime(at, at + span, precision, at, approximate=True)

    day, part, rest, bad_date = _find_date(text, ref)
    if bad_date:
        return None
    approximate = bool(_APPROX_PREFIX.search(rest))
    has_date = day is not None
    if part is None:
        part_match = _PART_RE.search(rest)
        if part_match:
            part = part_match.group(0)
            rest = _blank(rest, part_match)

    clock = _CLOCK.search(rest)
    if clock:
        hour = _num(clock.group("h"))
        minute = 0
        precision = "hour"
        if clock.group("mc") is not None:
            minute, precision = int(clock.group("mc")), "minute"
        elif clock.group("half"):
            minute, precision = 30, "minute"
        elif clock.group("q"):
            minute, precision = (15 if clock.group("q") == "一" else 45), "minute"
        elif clock.group("m") is not None:
            minute = _num(clock.group("m"))
            precision = "minute"
        if hour is None or minute is None or not 0 <= minute <= 59:
            return None
        converted = _hour_24(hour, part)
        if converted is None:
            return None
        hour, shift = converted
        approximate = approximate or bool(clock.group("approx"))
        base = day if day is not None else ref.date()
        at = _at(base, hour, minute) + timedelta(days=shift)
        if not has_date and at > ref:
            at -= timedelta(days=1)
        if precision == "minute":
            start, end = at, at + timedelta(minutes=1)
        elif (clock.group("approx") or "").strip() in ("左右", "前后"):
            start, end = at - timedelta(minutes=30), at + timedelta(minutes=30)
        else:  # 十点 / 十点多: within that hour
            start, end = at, at + timedelta(hours=1)
        return ParsedTime(start, end, precision, at, approximate, has_date)

    if part is not None:
        first, length = _PARTS[part]
        base = day if day is not None else ref.date()
        start = _at(base, first, 0)
        if not has_date and start > ref:
            start -= timedelta(days=1)
        return ParsedTime(start, start + timedelta(hours=length), "part_of_day", start, approximate, has_date)

    if day is not None:
        start = _at(day, 0, 0)
        return ParsedTime(start, start + timedelta(days=1), "day", start, approximate, True)

    if _VAGUE.search(rest):
        start = _at(ref.date(), 0, 0) - timedelta(days=7)
        return ParsedTime(start, ref, "vague", start, False, False)
    return None


_BAD_HOUR = re.compile(r"(?P<h>" + _N + r")\s*(?:点|时(?!间))")
_BAD_CLOCK = re.compile(r"(?P<h>\d{1,2})\s*[:：]\s*(?P<m>\d{1,2})")
_BAD_MINUTE = re.compile(r"(?:点|时)\s*(?P<m>\d{1,3}|[零〇一二三四五六七八九十]{1,4})\s*分")
_BAD_MONTH = re.compile(r"(?P<mo>" + _N + r")\s*月(?:\s*(?P<d>" + _N + r")\s*[日号])?")


def unreadable_reason(text) -> str | None:
    """Why a time parse_time cannot read is impossible ("没有25点"), in Chinese; None when nothing specific."""
    if not isinstance(text, str):
        return None
    text = unicodedata.normalize("NFKC", text)[:MAX_TIME_TEXT]
    for match in _BAD_CLOCK.finditer(text):
        hour, minute = int(match.group("h")), int(match.group("m"))
        if hour > 24:
            return f"没有{hour}点，钟点只能是 0 到 24 点"
        if minute > 59:
            return f"“{match.group(0)}”的分钟数不对，分钟只能是 00 到 59"
    for match in _BAD_HOUR.finditer(text):
        hour = cn_to_int(match.group("h"))
        if hour is not None and hour > 24:
            return f"没有{hour}点，钟点只能是 0 到 24 点（晚上10点也可以写成22点）"
    for match in _BAD_MINUTE.finditer(text):
        minute = cn_to_int(match.group("m"))
        if minute is not None and minute > 59:
            return f"没有{minute}分，分钟只能是 0 到 59"
    for match in _BAD_MONTH.finditer(text):
        month = cn_to_int(match.group("mo"))
        if month is not None and not 1 <= month <= 12:
            return f"没有{month}月，月份只能是 1 到 12"
        day = cn_to_int(match.group("d")) if match.group("d") else None
        if month is not None and day is not None:
            try:
                date(2024, month, day)  # a leap year: 2月29日 is possible in some years
            except ValueError:
                return f"{month}月没有{day}日"
    return None
