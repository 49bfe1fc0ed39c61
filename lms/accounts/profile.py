"""What the app shows about a person: the /me payload, extensible by later features."""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask_login import current_user

from lms.accounts.models import UserPreference
from lms.extensions import db
from lms.org.queries import path_names

#: later features (points, certification) add fields, e.g. {"points": 12, "star": 2}
_CONTRIBUTORS: list[Callable[[object], dict]] = []


def contribute(fn: Callable[[object], dict]) -> Callable:
    """Register fn(user) -> dict of extra /me fields."""
    if fn not in _CONTRIBUTORS:
        _CONTRIBUTORS.append(fn)
    return fn


def me_payload(user) -> dict:
    payload = {
        "username": user.username,
        "name": user.name,
        "org": {"code": user.org.code, "name": user.org.name, "path": path_names(user.org)},
        "roles": [{"role": g.role.value, "org": g.org.code} for g in user.grants],
        # No points ledger or certificates yet means zero, not unknown.
        "points": 0,
        "star": 0,
    }
    for fn in _CONTRIBUTORS:
        payload.update(fn(user))
    return payload


def get_preferences(user) -> dict:
    """The person's reading settings: {large_text: bool | None, speech_rate: float} (None: not chosen yet)."""
    cached = getattr(user, "_reading_prefs", None)  # loaded with the session's user (auth._SESSION_USER)
    if cached is not None:
        large_text, speech_rate = cached
    else:
        pref = db.session.get(UserPreference, user.id)
        large_text, speech_rate = (pref.large_text, pref.speech_rate) if pref else (None, None)
    return {"large_text": large_text, "speech_rate": speech_rate or 1.0}


def reading_context() -> dict:
    """Template context for base.html: the signed-in person's 大字 and read-aloud speed on <html>."""
    if not getattr(current_user, "is_authenticated", False) or getattr(current_user, "_auth_kind", "") != "session":
        return {"reading": None}
    try:
        prefs = get_preferences(current_user)
    except sa.exc.SQLAlchemyError:  # an error page while the database is failing must still render
        return {"reading": None}
    return {"reading": {
        "large_text": None if prefs["large_text"] is None else ("1" if prefs["large_text"] else "0"),
        "html_class": "large-text" if prefs["large_text"] else "",
        "speech_rate": f"{prefs['speech_rate']:g}"}}
