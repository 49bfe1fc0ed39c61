"""argon2id hashing at OWASP's minimum cost, and readable one-time passwords."""
from __future__ import annotations

import secrets
from collections.abc import Callable

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

# No 0/O, 1/l/I: initial passwords are read aloud and typed by older workers.
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_hashers: dict[tuple, PasswordHasher] = {}


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    key = (int(cfg["ARGON2_TIME_COST"]), int(cfg["ARGON2_MEMORY_KIB"]), int(cfg["ARGON2_PARALLELISM"]))
    if key not in _hashers:
        _hashers[key] = PasswordHasher(time_cost=key[0], memory_cost=key[1], parallelism=key[2], type=Type.ID)
    return _hashers[key]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    if not stored_hash:
        return False
    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher().check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


_DUMMY_HASH: dict[tuple, str] = {}


def burn_verify_time(password: str) -> None:
    """Verify against a dummy hash so unknown usernames take as long as known ones."""
    hasher = _hasher()
    key = (hasher.time_cost, hasher.memory_cost)
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = hasher.hash("dummy-password-for-timing")
    verify_password(_DUMMY_HASH[key], password)


#: One-time passwords: digits and capital letters with no look-alikes (no 0/O, 1/I/L), read out and typed by
#: older workers; 31^8 ≈ 2^39.6, ample with the login lockout, and changed at the first login.
OTP_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_OTP_GROUP = 4
_OTP_GROUPS = 2
#: what people put between the groups (or by mistake around them): ASCII and full-width dashes, spaces
_OTP_SEPARATORS = str.maketrans("", "", "-－‐‑–—_ 　")


def one_time_password(rng: secrets.SystemRandom | None = None) -> str:
    """A fresh one-time password in its canonical form, e.g. ``4827-KMPX``."""
    choice = (rng or secrets.SystemRandom()).choice
    return "-".join("".join(choice(OTP_ALPHABET) for _ in range(_OTP_GROUP)) for _ in range(_OTP_GROUPS))


def canonical_one_time_password(typed: str) -> str | None:
    """The canonical form of something typed as a one-time password (``4827kmpx``, ``4827 - kmpx``), or None when
    it does not have the shape of one.

    Only one-time passwords are forgiving: they are stored hashed in their canonical form, and login tries the
    canonical form only while the account still has to change its password. Ordinary passwords stay exact and
    case-sensitive.
    """
    compact = typed.strip().translate(_OTP_SEPARATORS).upper()
    if len(compact) != _OTP_GROUP * _OTP_GROUPS or any(ch not in OTP_ALPHABET for ch in compact):
        return None
    return "-".join(compact[i:i + _OTP_GROUP] for i in range(0, len(compact), _OTP_GROUP))


def verify_typed_password(stored_hash: str, typed: str, *, one_time_pending: bool,
                          verify: Callable[[str, str], bool] | None = None) -> str | None:
    """The form of typed that matches stored_hash, or None; while a one-time password is pending, its canonical
    form (any case, with or without the dash) is tried first."""
    verify = verify or verify_password
    if one_time_pending:
        canonical = canonical_one_time_password(typed)
        if canonical is not None:
            if verify(stored_hash, canonical):
                return canonical
            if canonical == typed:
                return None
    return typed if verify(stored_hash, typed) else None
