"""Certificate numbers and verification codes."""
from __future__ import annotations

import math
import random
import re
import secrets
from collections import Counter

import pytest

from lms.certification.codes import (
    VERIFY_ALPHABET,
    format_number,
    is_verify_code,
    new_verify_code,
    parse_number,
    public_verify_url,
)


def test_verify_code_is_url_safe_grouped_and_has_at_least_80_bits():
    code = new_verify_code()
    assert re.fullmatch(r"[2-9A-Z]{4}(-[2-9A-Z]{4}){4}", code)
    raw = code.replace("-", "")
    assert len(raw) * math.log2(len(set(VERIFY_ALPHABET))) >= 80
    assert not set(VERIFY_ALPHABET) & set("0O1IlLU")


def test_verify_codes_do_not_repeat_and_use_the_whole_alphabet_evenly():
    codes = [new_verify_code().replace("-", "") for _ in range(5000)]
    assert len(set(codes)) == len(codes)
    counts = Counter("".join(codes))
    assert set(counts) == set(VERIFY_ALPHABET)
    expected = 5000 * 20 / len(VERIFY_ALPHABET)
    # A biased generator (e.g. modulo bias over 256) would push some letters far from the mean.
    assert all(abs(n - expected) < expected * 0.15 for n in counts.values())


def test_verify_code_uses_the_given_rng_reproducibly():
    assert new_verify_code(random.Random(7)) == new_verify_code(random.Random(7))
    assert new_verify_code(random.Random(7)) != new_verify_code(random.Random(8))
    assert len(new_verify_code(secrets.SystemRandom())) == 24


def test_is_verify_code_rejects_other_shapes():
    assert is_verify_code(new_verify_code())
    assert is_verify_code("Ab3dEf7hIj9kLmN2pQr4sT")  # a code issued before December 2026
    for bad in ["", "short", "abc/def" * 4, "a" * 65, "好" * 22, None]:
        assert not is_verify_code(bad)


def test_format_number_pads_the_sequence_to_six_digits():
    assert format_number("WG", 2026, 123) == "WG-2026-000123"
    assert format_number("WG-SG", 2026, 1) == "WG-SG-2026-000001"
    assert format_number("STAR-3", 2027, 1234567) == "STAR-3-2027-1234567"


@pytest.mark.parametrize("prefix, year, seq", [("", 2026, 1), ("W G", 2026, 1), ("WG", 26, 1), ("WG", 2026, 0)])
def test_format_number_rejects_bad_parts(prefix, year, seq):
    with pytest.raises(ValueError):
        format_number(prefix, year, seq)


def test_parse_number_round_trips_hyphenated_prefixes():
    assert parse_number(format_number("WG-SG", 2026, 42)) == ("WG-SG", 2026, 42)
    assert parse_number("WG-2026-000123") == ("WG", 2026, 123)
    assert parse_number("WG-2026-12") is None
    assert parse_number("not a number") is None


def test_public_verify_url_joins_base_and_code():
    code = "AbCdEfGhIjKlMnOpQrStUv"
    assert public_verify_url("https://lms.hx.example/", code) == f"https://lms.hx.example/verify/{code}"
    assert public_verify_url("https://hx.example/lms", code) == f"https://hx.example/lms/verify/{code}"
    with pytest.raises(ValueError):
        public_verify_url("https://hx.example", "../admin")
