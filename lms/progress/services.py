"""Writes of the progress feature: reminders to the people who have not finished."""
from __future__ import annotations

import sqlalchemy as sa

from lms.audit.services import record
from lms.db import SHANGHAI, utcnow
from lms.extensions import db
from lms.inbox.models import Message
from lms.progress.queries import STATUS_LABELS, Row, Target

#: inbox kind of the reminders
REMINDER_KIND = "progress_reminder"


def _link(target: Target) -> str:
    if target.course is not None:
        return f"/courses/{target.course.code}"
    if target.quiz is not None:
        return "/quizzes"
    return "/certificates"


def _message(target: Target, row: Row) -> tuple[str, str]:
    if target.course is not None:
        what = f"课程《{target.title}》"
    elif target.quiz is not None:
        what = f"测验《{target.title}》"
    else:
        what = f"认证项目《{target.title}》的要求"
    due = f"，截止日期 {row.due.month}月{row.due.day}日" if row.due else ""
    state = "已逾期，" if row.status == "overdue" else ""
    return f"提醒：请尽快完成{what}", f"您的{what}尚未完成（{STATUS_LABELS[row.status]}）{due}。{state}请抽空学习完成。"


def send_reminders(actor, target: Target, rows: list[Row], *, org=None, status: str | None = None,
                   client_addr: str = "", now=None) -> int:
    """An inbox message to each unfinished person in rows (once a day per target); audited. Returns how many got one.

    Set-based: one statement finds who already had today's reminder, then the new messages are added together.
    """
    now = now or utcnow()
    day = now.astimezone(SHANGHAI).date().isoformat()
    key = f"progress:{target.kind}:{target.code}:{day}"[:120]
    unfinished = [row for row in rows if row.status != "done"]
    ids = [row.user_id for row in unfinished]
    already: set[int] = set()
    for chunk in range(0, len(ids), 500):
        already.update(db.session.scalars(sa.select(Message.user_id).where(
            Message.user_id.in_(ids[chunk:chunk + 500]), Message.dedupe_key == key)))
    link = _link(target)
    messages = []
    for row in unfinished:
        if row.user_id in already:
            continue
        title, body = _message(target, row)
        messages.append({"user_id": row.user_id, "kind": REMINDER_KIND, "title": title[:200], "body": body,
                         "link": link, "dedupe_key": key, "created_at": now})
    if messages:
        db.session.execute(sa.insert(Message), messages)
    record("progress.remind", actor=actor, target_type=target.kind, target=target.label, org=org or actor.org,
           client_addr=client_addr, now=now,
           details={"对象": target.label, "范围": org.name if org is not None else "管辖范围",
                    "状态": STATUS_LABELS.get(status, "全部未完成"), "提醒人数": len(messages),
                    "今日已提醒": len(already)})
    return len(messages)
