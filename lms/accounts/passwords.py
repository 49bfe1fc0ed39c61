"""argon2id hashing at OWASP's minimum cost, and readable one-time passwords."""
from __future__ import annotations

import secrets

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


def one_time_password(length: int = 10) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
