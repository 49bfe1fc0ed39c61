"""Certificate numbers and public verification codes/URLs (API.md)."""
from __future__ import annotations

import ipaddress
import re
import secrets
import string
from urllib.parse import quote, urlsplit

# New codes: digits and capitals without 0/O, 1/I/L and U (Crockford-like), so a code read out over the
# phone or copied from paper cannot be mistaken; typed in any case, with or without dashes or spaces.
VERIFY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
# 30**20 ≈ 2**98, above the 80 bits API.md asks for; five groups of four read aloud.
VERIFY_CODE_LENGTH = 20
VERIFY_GROUP = 4
# Codes issued before December 2026: 22 mixed-case base62 characters. They keep verifying, exactly as printed.
LEGACY_ALPHABET = string.ascii_letters + string.digits
_LEGACY_CODE = re.compile(r"[A-Za-z0-9]{16,64}")
_SEPARATORS = re.compile(r"[\s\-‐‑–—_]+")
_NEW_CODE = re.compile(f"[{VERIFY_ALPHABET}]{{{VERIFY_CODE_LENGTH}}}")
_NUMBER = re.compile(r"(?P<prefix>[A-Za-z0-9][A-Za-z0-9-]*)-(?P<year>\d{4})-(?P<seq>\d{6,})")


def group_code(raw: str) -> str:
    """ABCD…(20) -> ABCD-EFGH-JKMN-PQRS-TVWX."""
    return "-".join(raw[i:i + VERIFY_GROUP] for i in range(0, len(raw), VERIFY_GROUP))


def new_verify_code(rng=secrets) -> str:
    """A fresh verification code, grouped ``XXXX-XXXX-XXXX-XXXX-XXXX`` (~98 random bits) from ``rng.choice``."""
    return group_code("".join(rng.choice(VERIFY_ALPHABET) for _ in range(VERIFY_CODE_LENGTH)))


def normalize_verify_code(text) -> str | None:
    """The stored form of a typed or scanned code, or None when it cannot be one.

    New codes are matched case-insensitively with any dashes/spaces; a legacy (base62) code only exactly.
    """
    if not isinstance(text, str) or len(text) > 128:
        return None
    compact = _SEPARATORS.sub("", text.strip())
    if _NEW_CODE.fullmatch(compact.upper()):
        return group_code(compact.upper())
    if _LEGACY_CODE.fullmatch(text.strip()):
        return text.strip()
    return None


def is_verify_code(text) -> bool:
    """True when ``text`` has the shape of a verification code (cheap check before a lookup)."""
    return normalize_verify_code(text) is not None


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
    normalized = normalize_verify_code(code)
    if normalized is None:
        raise ValueError(f"not a verification code: {code!r}")
    return f"{base.rstrip('/')}/verify/{quote(normalized, safe='-')}"


_LOOPBACK_HOSTS = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "0.0.0.0", "::", ""}


def is_public_base_url(base) -> bool:
    """Whether ``base`` (LMS_PUBLIC_URL) can be reached from elsewhere: http(s), a host, not loopback."""
    if not isinstance(base, str) or not base.strip():
        return False
    try:
        parts = urlsplit(base.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or host in _LOOPBACK_HOSTS or host.endswith(".localhost"):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True  # a host name
    return not (address.is_loopback or address.is_unspecified)
