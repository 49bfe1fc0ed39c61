"""Rotating 6-digit check-in codes: HMAC of the 30-second time step, nothing kept in memory (pure)."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import unicodedata

STEP_SECONDS = 30
#: typed live, the code on screen and the two shown before it are accepted: a code stays good for at least two
#: full rotations (60 s) after it left the screen, so a slow typist is not refused (issue #15)
LIVE_STEPS_BACK = 2
#: typed offline at captured_at: the code of that step or of a neighbour (the tablet's clock may be a step off)
CAPTURED_STEPS = (-1, 0, 1)
DIGITS = 6


def time_step(now: dt.datetime) -> int:
    """Number of the 30-second step now falls in."""
    return int(now.timestamp()) // STEP_SECONDS


def step_ends_at(step: int) -> dt.datetime:
    """When the given step's code stops being shown (it stays accepted one step longer)."""
    return dt.datetime.fromtimestamp((step + 1) * STEP_SECONDS, dt.timezone.utc)


def code_for_step(app_secret: str, training_secret: str, step: int) -> str:
    """The 6-digit code of a step (HOTP-style dynamic truncation of HMAC-SHA256)."""
    key = hashlib.sha256(f"{app_secret}\x00{training_secret}".encode()).digest()
    digest = hmac.new(key, step.to_bytes(8, "big"), hashlib.sha256).digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(value % 10 ** DIGITS).zfill(DIGITS)


def current_code(app_secret: str, training_secret: str, now: dt.datetime) -> tuple[str, int]:
    """(code, step) to show now."""
    step = time_step(now)
    return code_for_step(app_secret, training_secret, step), step


def normalise_code(text) -> str | None:
    """Typed code as 6 ASCII digits (full-width digits and spaces allowed), or None."""
    if not isinstance(text, (str, int)) or isinstance(text, bool):
        return None
    cleaned = unicodedata.normalize("NFKC", str(text)).replace(" ", "").replace("-", "")
    if len(cleaned) != DIGITS or not cleaned.isascii() or not cleaned.isdigit():
        return None
    return cleaned


def accepted_steps(now: dt.datetime, captured_at: dt.datetime | None = None) -> list[int]:
    """Steps whose code is accepted: live, the current one and the LIVE_STEPS_BACK before it; typed offline,
    the step of captured_at and its neighbours."""
    if captured_at is not None:
        step = time_step(captured_at)
        return [step + delta for delta in CAPTURED_STEPS]
    step = time_step(now)
    return [step - back for back in range(LIVE_STEPS_BACK, -1, -1)]


def verify_code(app_secret: str, training_secret: str, typed, now: dt.datetime,
                captured_at: dt.datetime | None = None) -> bool:
    """typed matches a code of accepted_steps(now, captured_at)."""
    code = normalise_code(typed)
    if code is None:
        return False
    return any(hmac.compare_digest(code, code_for_step(app_secret, training_secret, step))
               for step in accepted_steps(now, captured_at))
