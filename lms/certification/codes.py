"""Certificate numbers and public verification codes/URLs (API.md)."""
from __future__ import annotations

import re
import secrets
import string
from urllib.parse import quote

# Letters and digits only: safe in URLs, QR codes and when read aloud over the phone.
VERIFY_ALPHABET = string.ascii_letters + string.digits
# 62**22 ≈ 2**131, well above the 80 bits API.md asks for, in a short QR code.
VERIFY_CODE_LENGTH = 22
_VERIFY_CODE = re.compile(r"[A-Za-z0-9]{16,64}")
_NUMBER = re.compile(r"(?P<prefix>[A-Za-z0-9][A-Za-z0-9-]*)-(?P<year>\d{4})-(?P<seq>\d{6,})")


def new_verify_code(rng=secrets) -> str:
    """A fresh verification code: 22 base62 characters (~131 random bits) from ``rng.choice``."""
    return "".join(rng.choice(VERIFY_ALPHABET) for _ in range(VERIFY_CODE_LENGTH))


def is_verify_code(text: str) -> bool:
    """True when ``text`` has the shape of a verification code (cheap check before a lookup)."""
    return isinstance(text, str) and _VERIFY_CODE.fullmatch(text) is not None


def format_number(prefix: str, year: int, seq: int) -> str:
    """Certificate number ``<prefix>-<year>-<seq, 6 digits>``, e.g. ``WG-2026-000123``."""
    if not prefix or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*", prefix):
        raise ValueError(f"certificate number prefix must be letters, digits and '-': {prefix!r}")
    if not 1000 <= year <= 9999:
        raise ValueError(f"year must have four digits: {year!r}")
    if seq < 1:
        raise ValueError(f"sequence numbers start at 1: {seq!r}")
    return f"{prefix}-{year:04d}-{seq:06d}"


def parse_number(number: str) -> tuple[str, int, int] | None:
    """(prefix, year, seq) of a certificate number, or None when it is not one."""
    match = _NUMBER.fullmatch(number or "")
    if not match:
        return None
    return match["prefix"], int(match["year"]), int(match["seq"])


def public_verify_url(base: str, code: str) -> str:
    """The public verification page for ``code`` under ``base`` (LMS_PUBLIC_URL)."""
    if not is_verify_code(code):
        raise ValueError(f"not a verification code: {code!r}")
    return f"{base.rstrip('/')}/verify/{quote(code, safe='')}"
