"""Audit entries as sentences people read: “王建国 给 桃源村 的网格员 指派了测验《网格员职责》，截止 12月20日”.

Every action code has a Chinese label (the audit page's filter shows it) and a sentence function that turns the
stored entry into one Chinese sentence. Register one for a new action, beside the service that records it or
in this module:

    from lms.audit.render import sentence

    @sentence("user.create", "创建账号", group="账号")
    def _user_create(e, n):
        return f"{n.actor(e)} 创建了账号 {n.user(e.target)}（{n.org(e.d.get('org'))}）"

``e`` is the AuditEntry; ``e.d`` is its details as a dict. Read details with ``.get``: older entries lack the
keys newer code stores, and a sentence must not fail on them. ``n`` turns what entries store into what people
read; everything it looks up is loaded once per page (a first pass collects the keys, one query per kind loads
them, a second pass writes the sentences), so never query the database in a sentence:

    n.actor(e)                the actor's name (“系统” for the system, the typed 工号 for unknown ones)
    n.user(username)          a person's name; n.users([...]) names joined with “、” (“等 N 人” past five)
    n.org(code)               an org unit's name; n.org_path(path) the same from a materialised path
    n.course(code) n.quiz(code) n.bank(code) n.drill(code) n.program(code)    titles in 《》
    n.question(qid)           the question's stem, shortened, in “”
    n.lesson("course/slug")   the lesson's title in 《》
    n.pairing(id)             “导师 赵德山 的结对”
    n.role(code)              “网格员”; n.grants(["worker@HX0101", ...]) “桃源村 的网格员、……”
    n.date(iso)               “12月20日” (with the year when not the entry's year)
    n.count(value)            the number, or “?” when missing
    n.details(e, {"rows": "行数"})   “行数 12，格式 XLSX” from details, only keys it knows (Chinese keys as is)
    n.text(value)             a stored free text (a reason), shortened; “（未填写）” when empty

Functions return plain text (the template escapes it). None of the helpers ever returns a raw code when a name
exists. An action without a sentence reads “<actor> <label>：<target>” with its registered label, or
“<actor> 其他操作” when the action is not registered at all: never the code itself.

A writer may also store the whole sentence: ``details["summary"]`` in Chinese (“周敏 修改了 张小明（worker）的
手机号”). It is shown as stored (the actor's name put in front when it does not start with it) and wins over
the registered sentence; still register a label so the filter lists the action.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable

import sqlalchemy as sa

from lms.db import local
from lms.extensions import db

log = logging.getLogger(__name__)

MISSING = "（未记录）"


@dataclasses.dataclass(frozen=True)
class Action:
    code: str
    label: str
    group: str
    render: Callable | None


#: action code → Action, in registration order (the filter lists them by group in this order)
ACTIONS: dict[str, Action] = {}


def sentence(code: str, label: str, *, group: str = "其他"):
    """Decorator: register fn(entry, names) -> str as the sentence of ``code``, with its Chinese label."""
    def register(fn):
        ACTIONS[code] = Action(code, label, group, fn)
        return fn
    return register


def label(code: str, text: str, *, group: str = "其他") -> None:
    """Register only a label for ``code`` (its entries then read “<actor> <label>：<target>”)."""
    if code not in ACTIONS:
        ACTIONS[code] = Action(code, text, group, None)


def action_label(code: str) -> str:
    """The Chinese label of an action code (“其他操作” for unknown codes)."""
    action = ACTIONS.get(code)
    return action.label if action else "其他操作"


def action_groups() -> list[tuple[str, list[str]]]:
    """[(group, [label, ...]), ...] for the filter (a label shared by several codes listed once)."""
    groups: dict[str, list[str]] = {}
    for action in ACTIONS.values():
        labels = groups.setdefault(action.group, [])
        if action.label not in labels:
            labels.append(action.label)
    return list(groups.items())


def codes_for(choice: str) -> list[str]:
    """The action codes a filter choice stands for: a label, “组:<group>” for a whole group, or a code."""
    if choice.startswith("组:"):
        return [a.code for a in ACTIONS.values() if a.group == choice[2:]]
    return [a.code for a in ACTIONS.values() if a.label == choice] or [choice]


# --- looking things up, once per page ----------------------------------------------------------------------------

#: kind → (table, key column, label column); tables by name, so the audit feature imports no later feature
LOOKUPS: dict[str, tuple[str, str, str]] = {
    "user": ("users", "username", "name"),
    "org": ("org_units", "code", "name"),
    "org_path": ("org_units", "path", "name"),
    "course": ("courses", "code", "title"),
    "quiz": ("quizzes", "code", "title"),
    "bank": ("quiz_banks", "code", "title"),
    "drill": ("drills", "code", "title"),
    "program": ("cert_programs", "code", "title"),
    "question": ("quiz_questions", "qid", "stem"),
}

ROLE_LABELS = {"worker": "网格员", "grid_leader": "网格长", "mentor": "导师", "trainer": "培训师",
               "hr": "人事/综治中心", "admin": "系统管理员", "pii": "个人信息查看权限"}
FORMAT_LABELS = {"xlsx": "XLSX", "csv": "CSV", "pdf": "PDF", "zip": "ZIP", "gift": "GIFT", "aiken": "Aiken",
                 "yaml": "YAML"}
#: detail keys people can read, for n.details() and the generic sentence
DETAIL_LABELS = {
    "rows": "行数", "format": "格式", "file": "文件", "reason": "理由", "created": "新增", "new": "新增",
    "updated": "更新", "unchanged": "未变", "disabled": "停用", "errors": "错误", "warnings": "跳过",
    "retired": "停用", "skipped": "跳过", "questions": "题数", "sent": "提醒人数", "count": "人数",
    "version": "版本", "status": "状态", "from": "起", "to": "止", "issued_from": "发证起", "issued_to": "发证止",
    "extra_attempts": "增加次数", "comment": "评语", "pii_unmasked": "身份证号和手机号未脱敏",
}
STATUS_WORDS = {"valid": "有效", "expired": "已过期", "revoked": "已撤销", "accepted": "通过", "returned": "退回",
                "not_started": "未开始", "in_progress": "学习中", "done": "已完成", "overdue": "已逾期"}
_MARKDOWN = re.compile(r"[*_`#>\[\]()!]|\{[^}]*\}")


def _short(text: str, limit: int = 24) -> str:
    text = re.sub(r"\s+", " ", _MARKDOWN.sub("", text or "")).strip()
    return text if len(text) <= limit else text[:limit] + "…"


class Names:
    """Resolves stored keys to names; first collecting every key the page needs, then loading them in batches."""

    def __init__(self):
        self.wanted: dict[str, set] = defaultdict(set)
        self.known: dict[str, dict] = defaultdict(dict)
        self.year: int | None = None

    # -- loading

    def load(self) -> None:
        """One query per kind of key collected."""
        tables = db.metadata.tables
        for kind, keys in self.wanted.items():
            keys = {k for k in keys if k not in self.known[kind]}
            if not keys:
                continue
            if kind == "lesson":
                self._load_lessons(keys)
                continue
            if kind == "pairing":
                self._load_pairings(keys)
                continue
            table_name, key, value = LOOKUPS[kind]
            table = tables.get(table_name)
            if table is None:
                continue
            keys = sorted(keys)
            for start in range(0, len(keys), 500):
                rows = db.session.execute(sa.select(table.c[key], table.c[value])
                                          .where(table.c[key].in_(keys[start:start + 500])))
                self.known[kind].update({k: v for k, v in rows})
        self.wanted.clear()

    def _load_lessons(self, keys: set) -> None:
        courses, lessons = db.metadata.tables.get("courses"), db.metadata.tables.get("lessons")
        if courses is None or lessons is None:
            return
        pairs = [tuple(k.split("/", 1)) for k in keys if "/" in k]
        codes = sorted({c for c, _ in pairs})
        rows = db.session.execute(sa.select(courses.c.code, lessons.c.slug, lessons.c.title)
                                  .join(lessons, lessons.c.course_id == courses.c.id)
                                  .where(courses.c.code.in_(codes)))
        wanted = set(keys)
        self.known["lesson"].update({f"{c}/{s}": t for c, s, t in rows if f"{c}/{s}" in wanted})

    def _load_pairings(self, keys: set) -> None:
        pairings, users = db.metadata.tables.get("pairings"), db.metadata.tables.get("users")
        ids = sorted({int(k) for k in keys if str(k).isdigit()})
        if pairings is None or users is None or not ids:
            return
        rows = db.session.execute(sa.select(pairings.c.id, users.c.name)
                                  .join(users, users.c.id == pairings.c.mentor_id).where(pairings.c.id.in_(ids)))
        self.known["pairing"].update({str(i): name for i, name in rows})

    def _get(self, kind: str, key):
        if key is None or key == "":
            return None
        key = str(key)
        if key not in self.known[kind]:
            self.wanted[kind].add(key)
            return None
        return self.known[kind][key]

    # -- for sentences

    def actor(self, e) -> str:
        if e.actor_id is None and (not e.actor_name or e.actor_name == "系统"):
            return "系统"
        name = self._get("user", e.actor_name)
        return name or (f"“{e.actor_name}”" if e.actor_name else "系统")

    def user(self, username) -> str:
        if not username:
            return MISSING
        return self._get("user", username) or str(username)

    def users(self, usernames, limit: int = 5) -> str:
        usernames = [u for u in (usernames or []) if u]
        if not usernames:
            return MISSING
        shown = "、".join(self.user(u) for u in usernames[:limit])
        return shown + (f" 等 {len(usernames)} 人" if len(usernames) > limit else "")

    def org(self, code) -> str:
        if not code:
            return MISSING
        return self._get("org", code) or str(code)

    def org_path(self, path) -> str:
        if not path:
            return "全县"
        return self._get("org_path", path) or "（已删除的单位）"

    def _titled(self, kind: str, code) -> str:
        if not code:
            return MISSING
        return f"《{self._get(kind, code) or code}》"

    def course(self, code) -> str:
        return self._titled("course", code)

    def quiz(self, code) -> str:
        return self._titled("quiz", code)

    def bank(self, code) -> str:
        return self._titled("bank", code)

    def drill(self, code) -> str:
        return self._titled("drill", code)

    def program(self, code) -> str:
        return self._titled("program", code)

    def lesson(self, key) -> str:
        return self._titled("lesson", key)

    def question(self, qid) -> str:
        if not qid:
            return MISSING
        stem = self._get("question", qid)
        return f"“{_short(stem)}”" if stem else "一道试题"

    def pairing(self, pairing_id) -> str:
        name = self._get("pairing", pairing_id)
        return f"导师 {name} 的结对" if name else "一个结对"

    def role(self, code) -> str:
        return ROLE_LABELS.get(str(code or ""), "全体人员" if not code else "其他角色")

    def grants(self, grants) -> str:
        """['worker@HX0101', …] → '桃源村 的网格员、…'."""
        parts = []
        for grant in grants or []:
            role, _, org = str(grant).partition("@")
            parts.append(f"{self.org(org)} 的{self.role(role)}" if org else self.role(role))
        return "、".join(parts) or "无"

    def date(self, value) -> str:
        if not value:
            return MISSING
        try:
            day = dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            return str(value)
        if self.year is not None and day.year != self.year:
            return f"{day.year}年{day.month}月{day.day}日"
        return f"{day.month}月{day.day}日"

    @staticmethod
    def count(value) -> str:
        return str(value) if isinstance(value, int) or (isinstance(value, str) and value.isdigit()) else "?"

    @staticmethod
    def text(value, limit: int = 60) -> str:
        value = str(value or "").strip()
        if not value:
            return "（未填写）"
        return value if len(value) <= limit else value[:limit] + "…"

    @staticmethod
    def format(value) -> str:
        return FORMAT_LABELS.get(str(value or "").lower(), "文件")

    def details(self, e, labels: dict | None = None) -> str:
        """Readable “key value” pairs from details: Chinese keys as stored, known English keys translated."""
        labels = {**DETAIL_LABELS, **(labels or {})}
        parts = []
        for key, value in (e.d or {}).items():
            if isinstance(value, (dict, list)) or value is None or value == "":
                continue
            if key == "format":
                value = self.format(value)
            elif isinstance(value, bool):
                value = "是" if value else "否"
            elif isinstance(value, str) and value in STATUS_WORDS:
                value = STATUS_WORDS[value]
            if not key.isascii():
                parts.append(f"{key} {value}")
            elif key in labels:
                parts.append(f"{labels[key]} {value}")
        return "，".join(parts)


# --- rendering a page of entries ---------------------------------------------------------------------------------

class _Entry:
    """The stored entry, with its details as a dict (``e.d``) even when NULL or not a dict."""

    __slots__ = ("_entry", "d")

    def __init__(self, entry):
        self._entry = entry
        self.d = entry.details if isinstance(entry.details, dict) else {}

    def __getattr__(self, name):
        return getattr(self._entry, name)


def _generic(e, n: Names) -> str:
    action = ACTIONS.get(e.action)
    what = action.label if action else "其他操作"
    target = _generic_target(e, n)
    extra = n.details(e)
    return f"{n.actor(e)} {what}" + (f"：{target}" if target else "") + (f"（{extra}）" if extra else "")


def _generic_target(e, n: Names) -> str:
    kinds = {"user": n.user, "course": n.course, "quiz": n.quiz, "bank": n.bank, "drill": n.drill,
             "program": n.program, "question": n.question, "lesson": n.lesson}
    if e.target_type in kinds:
        return kinds[e.target_type](e.target)
    target = str(e.target or "")
    # free text (Chinese labels, file names, numbers) passes; internal identifiers do not
    return "" if re.fullmatch(r"[a-z]+(?:[-_.][a-z0-9]+)+", target) else target


def _summary(e, n: Names) -> str | None:
    """The sentence the writer stored in details["summary"] (names as they were then), with the actor in front."""
    summary = e.d.get("summary")
    if not isinstance(summary, str) or not summary.strip() or summary.isascii():
        return None
    actor = n.actor(e)
    return summary if summary.startswith((actor, e.actor_name or "系统", "系统")) else f"{actor} {summary}"


def _write(e, n: Names) -> str:
    stored = _summary(e, n)
    if stored:
        return stored
    action = ACTIONS.get(e.action)
    if action is None or action.render is None:
        return _generic(e, n)
    return action.render(e, n)


def render(entries: Iterable) -> list[dict]:
    """One row per entry: {"entry", "at" (Asia/Shanghai), "actor", "action" (label), "sentence", "client"}."""
    entries = [_Entry(entry) for entry in entries]
    names = Names()
    for e in entries:  # first pass: collect what the sentences will look up
        names.year = local(e.at).year if e.at else None
        try:
            _write(e, names)
            names.actor(e)
        except Exception:  # noqa: BLE001  (a bad sentence must not hide the page; it falls back below)
            pass
    names.load()
    rows = []
    for e in entries:
        names.year = local(e.at).year if e.at else None
        try:
            text = _write(e, names)
        except Exception:  # noqa: BLE001  (odd stored details: the generic sentence still says what happened)
            log.exception("audit sentence for %s failed", e.action)
            text = _generic(e, names)
        rows.append({"entry": e._entry, "at": local(e.at), "actor": names.actor(e),
                     "action": action_label(e.action), "sentence": text,
                     "client": e.client_addr if e.client_addr and e.client_addr != "unknown" else "—"})
    return rows


# Sentences of the actions the application records live in lms/audit/sentences.py.
from lms.audit import sentences  # noqa: E402,F401  (registers them; it imports this module's decorator)
