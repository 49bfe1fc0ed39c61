"""Navigation and home-page sections per role; features register theirs here.

Views compute what to show (permission module decides), templates only render it.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

from flask import url_for


@dataclasses.dataclass(frozen=True)
class NavEntry:
    order: int
    label: str
    endpoint: str
    visible: Callable[[object], bool]


_NAV: list[NavEntry] = []
#: fn(user) -> {"title": str, "tiles": [{"label", "url", "description"}]} or None
_SECTIONS: list[tuple[int, Callable[[object], dict | None]]] = []


def register_nav(order: int, label: str, endpoint: str, visible: Callable[[object], bool]) -> None:
    if not any(e.endpoint == endpoint for e in _NAV):
        _NAV.append(NavEntry(order, label, endpoint, visible))
        _NAV.sort(key=lambda e: e.order)


def register_section(order: int, fn: Callable[[object], dict | None]) -> None:
    if all(existing is not fn for _, existing in _SECTIONS):
        _SECTIONS.append((order, fn))
        _SECTIONS.sort(key=lambda item: item[0])


def nav_items(user, current_endpoint: str) -> list[dict]:
    return [{"label": e.label, "url": url_for(e.endpoint), "active": e.endpoint == current_endpoint}
            for e in _NAV if e.visible(user)]


def home_sections(user) -> list[dict]:
    return [section for _, fn in _SECTIONS if (section := fn(user))]
