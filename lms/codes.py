"""Readable codes from Chinese titles, so that nobody has to type one (pure: no Flask, no database).

A title's Chinese characters become their pinyin initials and its Latin letters and digits stay as words:
矛盾纠纷调解 → ``mdjftj``, 2026年冬季供暖 → ``2026-njdjgn``. A generated code always ends in a number, the
smallest that is still free: ``mdjftj-1``, ``mdjftj-2`` … Callers pass ``taken``, a predicate saying whether a
candidate is already used (a set's ``__contains__`` or a database look-up).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

from pypinyin import Style, lazy_pinyin

#: what every code of the project matches (courses, lessons, quizzes, banks, drills)
CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+")


def _initials(chars: str) -> str:
    letters = lazy_pinyin(chars, style=Style.FIRST_LETTER, errors="ignore", strict=False)
    return "".join(ch for ch in "".join(letters).lower() if "a" <= ch <= "z")


def words(text: str) -> list[str]:
    """The words a code is made of: pinyin initials of each run of Chinese, Latin words and numbers as they are."""
    text = unicodedata.normalize("NFKC", str(text or "")).lower()
    found = []
    for match in _RUN.finditer(text):
        run = match.group(0)
        word = _initials(run) if _HAN.match(run) else run
        if word:
            found.append(word)
    return found


def stem(text: str, *, max_len: int = 40, fallback: str = "x") -> str:
    """The code's words joined by hyphens, cut to max_len on a word boundary; fallback when nothing is left."""
    joined = ""
    for word in words(text):
        candidate = f"{joined}-{word}" if joined else word
        if len(candidate) > max_len:
            if not joined:
                joined = word[:max_len]
            break
        joined = candidate
    return joined or fallback


def generate(title: str, taken: Callable[[str], bool] | Iterable[str], *, max_len: int = 64,
             fallback: str = "x") -> str:
    """``<stem>-<n>`` with the smallest n ≥ 1 that is not taken (mdjftj-1)."""
    if not callable(taken):
        taken = set(taken).__contains__
    base = stem(title, max_len=max(1, max_len - 5), fallback=fallback)
    n = 1
    while taken(f"{base}-{n}"):
        n += 1
    return f"{base}-{n}"


def is_code(text: str, *, max_len: int = 64) -> bool:
    """Whether text is already a valid code (lower-case letters and digits joined by single hyphens)."""
    return bool(text) and len(text) <= max_len and bool(CODE.match(text))


def code_or_generate(typed: str | None, title: str, taken: Callable[[str], bool] | Iterable[str], *,
                     max_len: int = 64, fallback: str = "x") -> tuple[str, bool]:
    """(code, generated): a valid typed code as it is; a blank one from the title; anything else (Chinese,
    spaces, capitals) from what was typed. ``generated`` False means the caller must check the typed code is free.
    """
    typed = (typed or "").strip()
    if typed and is_code(typed, max_len=max_len):
        return typed, False
    return generate(typed or title, taken, max_len=max_len, fallback=fallback), True


def sequential(prefix: str, taken: Callable[[str], bool] | Iterable[str], *, width: int = 4,
               start: int = 1) -> str:
    """``<prefix>-0042``: the first free number from start, zero-padded to width (question ids in a bank)."""
    if not callable(taken):
        taken = set(taken).__contains__
    n = start
    while taken(f"{prefix}-{n:0{width}d}"):
        n += 1
    return f"{prefix}-{n:0{width}d}"
