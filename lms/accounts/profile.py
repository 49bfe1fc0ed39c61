"""What the app shows about a person: the /me payload, extensible by later features."""
from __future__ import annotations

from collections.abc import Callable

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
