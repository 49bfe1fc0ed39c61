"""Navigation and home-page sections per role; features register theirs here.

Views compute what to show (permission module decides), templates only render it.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

from lms.web import cached_url


@dataclasses.dataclass(frozen=True)
class NavEntry:
    order: int
    label: str
    endpoint: str
    visible: Callable[[object], bool]
    #: optional fn(user) -> a small count shown beside the label (e.g. unread messages), None for none
    badge: Callable[[object], int | None] | None = None
    #: "learn" entries stand in the menu bar; "manage" ones (the operators' pages) fold into one 管理 menu, so a
    #: trainer's or HR's bar fits a tablet and a worker's stays the short list they use every day
    group: str = "learn"


_NAV: list[NavEntry] = []
#: fn(user) -> {"title": str, "tiles": [{"label", "url", "description"}]} or None
_SECTIONS: list[tuple[int, Callable[[object], dict | None]]] = []


NAV_GROUPS = ("learn", "manage")


def register_nav(order: int, label: str, endpoint: str, visible: Callable[[object], bool],
                 badge: Callable[[object], int | None] | None = None, group: str = "learn") -> None:
    if group not in NAV_GROUPS:
        raise ValueError(f"unknown nav group {group!r}")
    if not any(e.endpoint == endpoint for e in _NAV):
        _NAV.append(NavEntry(order, label, endpoint, visible, badge, group))
        _NAV.sort(key=lambda e: e.order)


def register_section(order: int, fn: Callable[[object], dict | None]) -> None:
    if all(existing is not fn for _, existing in _SECTIONS):
        _SECTIONS.append((order, fn))
        _SECTIONS.sort(key=lambda item: item[0])


def _unproxied(user):
    # current_user is a proxy that looks the user up again on every attribute: resolve it once.
    resolve = getattr(user, "_get_current_object", None)
    return resolve() if resolve is not None else user


def nav_items(user, current_endpoint: str) -> list[dict]:
    user = _unproxied(user)
    return [{"label": e.label, "url": cached_url(e.endpoint), "active": e.endpoint == current_endpoint,
             "badge": e.badge(user) if e.badge else None, "group": e.group} for e in _NAV if e.visible(user)]


def nav_menu(user, current_endpoint: str) -> dict:
    """The menu bar's entries and the 管理 menu's, split by group; ``manage_active`` marks the menu itself."""
    items = nav_items(user, current_endpoint)
    manage = [item for item in items if item["group"] == "manage"]
    return {"nav_items": [item for item in items if item["group"] != "manage"], "nav_manage": manage,
            "nav_manage_active": any(item["active"] for item in manage)}


def home_sections(user) -> list[dict]:
    user = _unproxied(user)
    return [section for _, fn in _SECTIONS if (section := fn(user))]
