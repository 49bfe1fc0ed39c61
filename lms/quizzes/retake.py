"""补考 after a wait and quizzes open every year: pure rules over a learner's attempt start times.

A quiz with ``max_attempts`` and ``retake_after_days``: the attempts come in rounds. Once a round's
attempts (max_attempts plus the learner's 补考 grants) are used, the next round opens
``retake_after_days`` after the last attempt of the round started. A quiz with an annual window
(``annual_opens``/``annual_closes``, "MM-DD") is open on those local days every year.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable


def current_round(starts: Iterable[dt.datetime], allowed: int, wait: dt.timedelta) -> tuple[int, dt.datetime | None]:
    """(attempts used in the current round, when the next round opens — None while attempts remain)."""
    used, last = 0, None
    for started in sorted(starts):
        if used >= allowed and last is not None and started >= last + wait:
            used = 0
        used += 1
        last = started
    if used >= allowed and last is not None:
        return used, last + wait
    return used, None


def may_start(starts: Iterable[dt.datetime], allowed: int, wait: dt.timedelta, now: dt.datetime) -> tuple[bool, dt.datetime | None]:
    """Whether a new attempt may start now, and (when not) from when it may."""
    used, reopens = current_round(starts, allowed, wait)
    if used < allowed or (reopens is not None and now >= reopens):
        return True, None
    return False, reopens


def parse_month_day(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    month, day = value.split("-")
    return int(month), int(day)


def in_window(opens: str | None, closes: str | None, day: dt.date) -> bool:
    """Whether local ``day`` lies in the yearly window [opens, closes] ("MM-DD"; may wrap the new year)."""
    start, end = parse_month_day(opens), parse_month_day(closes)
    if start is None or end is None:
        return True
    key = (day.month, day.day)
    return start <= key <= end if start <= end else (key >= start or key <= end)


def window_label(opens: str, closes: str) -> str:
    (om, od), (cm, cd) = parse_month_day(opens), parse_month_day(closes)
    return f"每年 {om} 月 {od} 日至{'次年 ' if (om, od) > (cm, cd) else ' '}{cm} 月 {cd} 日"
