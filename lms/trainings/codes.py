"""Rotating 6-digit check-in codes: HMAC of the 30-second time step, nothing kept in memory (pure)."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import unicodedata

STEP_SECONDS = 30
#: the current step and the one before: a forwarded photo is useless after at most 60 s
ACCEPTED_STEPS = 2
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


def verify_code(app_secret: str, training_secret: str, typed, now: dt.datetime) -> bool:
    """typed matches the code of the current or the previous step."""
    code = normalise_code(typed)
    if code is None:
        return False
    step = time_step(now)
    return any(hmac.compare_digest(code, code_for_step(app_secret, training_secret, step - back))
               for back in range(ACCEPTED_STEPS))
