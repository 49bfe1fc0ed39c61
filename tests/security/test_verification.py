"""Verification: the public /verify pages tell whether a certificate holds and nothing more (the probe's 7/7, kept).

| tries | expected |
| --- | --- |
| an unknown well-formed code, page and JSON | 404 that names no certificate, holder or number |
| malformed codes (SQL, markup, path tricks, 5,000 characters), page and JSON | 404, never a 500, input not echoed |
| a real code, page and JSON | number, programme, status and the masked name (张*明) only: no 工号, ID card, phone |
| a revoked certificate's code | says 已撤销 / ``revoked`` |
| more lookups from one address than the window allows | 429, and still no certificate data |
"""
from __future__ import annotations

import pytest

from lms.accounts.permissions import SYSTEM
from lms.certification import services as certification
from lms.extensions import db
from tests.certification.factories import make_certificate, make_program
from tests.factories import make_user

ID_CARD = "110101199003071234"
PHONE = "13800138000"
MALFORMED = ["' OR '1'='1", "<script>alert(1)</script>", "..%2f..%2fetc%2fpasswd", "A" * 5000,
             "ZZZZ%00ZZZZZZZZZZZZZZZZ", "１２３４５６７８９０１２３４５６７８"]


@pytest.fixture
def holder(tree):
    from lms.accounts import validation

    id_card = ID_CARD if not validation.check_id_card(ID_CARD) else None
    return make_user("w001", "worker", tree["g1"], name="张小明", id_card=id_card, phone=PHONE)


@pytest.fixture
def certificate(holder):
    return make_certificate(holder, make_program(), seed=7)


def _personal(text: str) -> list[str]:
    return [value for value in ("张小明", "w001", ID_CARD, PHONE) if value in text]


def test_an_unknown_code_is_404_and_names_nothing(client, certificate):
    unknown = "Q" * 22
    page, api = client.get(f"/verify/{unknown}"), client.get(f"/api/v1/verify/{unknown}")
    assert page.status_code == api.status_code == 404
    assert api.get_json()["error"]["code"] == "not_found"
    for text in (page.get_data(as_text=True), api.get_data(as_text=True)):
        assert certificate.number not in text and "张*明" not in text
        assert not _personal(text)


@pytest.mark.parametrize("code", MALFORMED, ids=["sql", "markup", "path", "long", "nul", "fullwidth"])
def test_malformed_codes_are_404_without_echo(client, certificate, code):
    for url in (f"/verify/{code}", f"/api/v1/verify/{code}"):
        response = client.get(url)
        assert response.status_code == 404, (url, response.status_code)
        assert "<script>alert(1)</script>" not in response.get_data(as_text=True)


def test_a_real_code_shows_the_masked_holder_only(client, certificate):
    page = client.get(f"/verify/{certificate.verify_code}")
    body = client.get(f"/api/v1/verify/{certificate.verify_code}").get_json()
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert certificate.number in text and "张*明" in text
    assert not _personal(text)
    assert body["holder"] == "张*明" and body["number"] == certificate.number
    assert set(body) <= {"number", "program", "holder", "issued", "expires", "status"}


def test_a_revoked_certificate_says_so(client, certificate):
    certification.revoke_certificate(SYSTEM, certificate, "测试撤销")
    db.session.commit()
    assert client.get(f"/api/v1/verify/{certificate.verify_code}").get_json()["status"] == "revoked"
    assert "已撤销" in client.get(f"/verify/{certificate.verify_code}").get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{"VERIFY_RATE_LIMIT": 3}])
def test_too_many_lookups_from_one_address_get_429_and_no_data(client, certificate, app_config):
    statuses = [client.get(f"/api/v1/verify/{certificate.verify_code}").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get(f"/verify/{certificate.verify_code}")
    assert refused.status_code == 429
    assert certificate.number not in refused.get_data(as_text=True)
