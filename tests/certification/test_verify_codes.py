"""Verification codes a person can read out: no 0/O/1/I/L/U, grouped, typed in any case; old codes keep working."""
from __future__ import annotations

import math
import random

import pytest
import sqlalchemy as sa

from lms.certification import codes, queries
from lms.certification.models import Certificate
from lms.extensions import db
from tests.certification.factories import make_certificate, make_program
from tests.factories import make_user

LEGACY = "Ab3dEf7hIj9kLmN2pQr4sT"  # the 22-character base62 shape issued before December 2026


def test_the_alphabet_has_no_look_alike_characters_and_codes_carry_80_bits():
    assert not set(codes.VERIFY_ALPHABET) & set("0O1IlLUo")
    assert codes.VERIFY_CODE_LENGTH * math.log2(len(codes.VERIFY_ALPHABET)) >= 80
    code = codes.new_verify_code(random.Random(1))
    groups = code.split("-")
    assert len(groups) == 5 and all(len(g) == 4 for g in groups)


@pytest.mark.parametrize("typed", ["{}", "{lower}", "{compact}", "{compact_lower}", " {spaced} ", "{dashes}"])
def test_typed_variants_normalise_to_the_stored_code(typed):
    code = codes.new_verify_code(random.Random(2))
    compact = code.replace("-", "")
    variants = {"lower": code.lower(), "compact": compact, "compact_lower": compact.lower(),
                "spaced": " ".join(code.split("-")), "dashes": code.replace("-", "—")}
    assert codes.normalize_verify_code(typed.format(code, **variants)) == code


@pytest.mark.parametrize("bad", ["", "ABCD-EFGH", "ABCD-EFGH-JKMN-PQRS-TVW0", "ABCD-EFGH-JKMN-PQRS-TVWXY!", None, 42,
                                 "A" * 200, "好好好好-好好好好-好好好好-好好好好-好好好好"])
def test_other_shapes_are_not_codes(bad):
    assert codes.normalize_verify_code(bad) is None


def test_a_legacy_code_is_kept_exactly_and_case_matters():
    assert codes.normalize_verify_code(LEGACY) == LEGACY
    assert codes.normalize_verify_code(LEGACY.lower()) == LEGACY.lower()  # shape only: the lookup then misses


@pytest.fixture
def holder(tree):
    return make_user("w001", "worker", tree["g1"], name="张小明")


def test_new_certificates_get_grouped_codes_found_however_typed(client, holder):
    certificate = make_certificate(holder, make_program(), seed=4)
    assert codes.normalize_verify_code(certificate.verify_code) == certificate.verify_code
    assert queries.get_by_verify_code(certificate.verify_code.lower().replace("-", " ")).id == certificate.id
    for typed in (certificate.verify_code, certificate.verify_code.replace("-", "").lower()):
        assert client.get(f"/api/v1/verify/{typed}").get_json()["number"] == certificate.number


def test_an_old_code_still_verifies(client, holder):
    certificate = make_certificate(holder, make_program(), seed=4)
    db.session.execute(sa.update(Certificate).where(Certificate.id == certificate.id).values(verify_code=LEGACY))
    db.session.commit()
    assert client.get(f"/api/v1/verify/{LEGACY}").status_code == 200
    assert client.get(f"/verify/{LEGACY}").status_code == 200
    assert client.get(f"/api/v1/verify/{LEGACY.lower()}").status_code == 404
    assert codes.public_verify_url("https://lms.hx.gov.cn/", LEGACY) == f"https://lms.hx.gov.cn/verify/{LEGACY}"
