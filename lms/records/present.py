"""A 学时档案 laid out as titled tables of plain values: one layout for the page, the PDF and the XLSX.

Pure: a Record in, lists out; no database, no request.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from lms.records.queries import Record


@dataclasses.dataclass(frozen=True)
class Section:
    """One part of the record: a title, column headers, rows of cells (str, numbers, dates or None)."""

    key: str
    title: str
    header: tuple[str, ...]
    rows: list[list]
    empty: str


def day(value) -> str:
    """2026-06-03 (a datetime is shown as its local day)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat()


def minute(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def number(value) -> str:
    """1.5 → "1.5", 2.0 → "2"."""
    if value is None:
        return ""
    value = round(float(value), 1)
    return str(int(value)) if value == int(value) else str(value)


def summary(record: Record) -> list[tuple[str, str]]:
    """(label, value) pairs of the record's totals."""
    t = record.totals
    hours = t["course_hours"]
    return [("合计学时", number(t["hours"])),
            ("课程学时", f"{number(hours['total'])}（县训 {number(hours['county'])}，乡培 {number(hours['township'])}，"
                     f"村练 {number(hours['village'])}）"),
            ("线下培训学时", number(t["training_hours"])),
            ("完成课程", f"{t['courses_completed']} 门"),
            ("通过测验", f"{t['quizzes_passed']} 个"),
            ("模拟上报被采纳", f"{t['drills_accepted']} 个"),
            ("老带新活动（已确认）", f"{t['mentoring_activities']} 次，{t['mentoring_minutes']} 分钟"),
            ("有效证书", f"{t['certificates_valid']} 本"),
            ("积分", str(t["points"])),
            ("星级", f"{t['star']} 星" if t["star"] else "无")]


def sections(record: Record) -> list[Section]:
    """The record's parts in reading order."""
    return [
        Section("courses", "课程学习", ("课程", "级别", "开始日期", "完成日期", "课时进度", "获得学时"),
                [[c["title"], c["level_label"], day(c["started"]), day(c["completed"]) or "未完成",
                  f"{c['lessons_done']}/{c['lessons']}", number(c["hours"])] for c in record.courses],
                "尚未开始任何课程"),
        Section("trainings", "线下培训", ("日期", "培训名称", "级别", "学时"),
                [[day(t["date"]), t["title"], t["level_label"], number(t["hours"])] for t in record.trainings],
                "暂无线下培训签到记录"),
        Section("quizzes", "测验成绩", ("测验", "最高分", "及格线", "已作答", "可作答", "是否通过", "最近作答"),
                [[q["title"], number(q["best_score"]) if q["best_score"] is not None else "—", str(q["pass_score"]),
                  str(q["attempts"]),
                  "不限" if q["allowed"] is None else (f"{q['allowed']}（含补考 {q['extra_attempts']}）"
                                                     if q["extra_attempts"] else str(q["allowed"])),
                  "通过" if q["passed"] else "未通过", minute(q["last_attempt"])] for q in record.quizzes],
                "暂无测验记录"),
        Section("drills", "模拟事件上报（已采纳）", ("演练", "首次采纳日期", "最高分", "采纳份数"),
                [[d["title"], day(d["accepted_on"]), str(d["best_score"]), str(d["accepted_reports"])]
                 for d in record.drills], "暂无被采纳的模拟上报"),
        Section("mentoring", "老带新", ("身份", "结对对象", "起止日期", "状态", "已确认活动", "活动时长（分钟）"),
                [[m["role_label"], "、".join(m["with"]), f"{day(m['start'])} 至 {day(m['end'])}", m["state_label"],
                  str(m["activities"]), str(m["minutes"])] for m in record.mentoring], "暂无老带新结对"),
        Section("certificates", "证书", ("证书编号", "证书名称", "发证日期", "有效期至", "状态"),
                [[c["number"], c["program"]["title"], day(c["issued"]), day(c["expires"]), c["status_label"]]
                 for c in record.certificates], "暂无证书"),
    ]
