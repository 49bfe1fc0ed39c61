"""GET /verify (form) and ?number=&name= (page and JSON): both must match; the answer is the masked view."""
from __future__ import annotations

import pytest

from lms.certification import queries
from tests.certification.factories import make_certificate, make_program
from tests.factories import make_user


@pytest.fixture
def certificate(tree):
    holder = make_user("w001", "worker", tree["g1"], name="张小明")
    return make_certificate(holder, make_program(), seed=3)


def test_verify_without_a_code_offers_the_form(client, certificate):
    page = client.get("/verify")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="number"' in text and 'name="name"' in text and "持证人姓名" in text
    assert certificate.number not in text


def test_number_and_full_name_find_the_masked_certificate(client, certificate):
    page = client.get("/verify", query_string={"number": certificate.number, "name": "张小明"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and certificate.number in text and "张*明" in text and "张小明" not in text
    body = client.get("/api/v1/verify", query_string={"number": certificate.number, "name": "张小明"}).get_json()
    assert body == client.get(f"/api/v1/verify/{certificate.verify_code}").get_json()
    assert body["holder"] == "张*明"


def test_number_in_lower_case_and_name_with_spaces_still_match(client, certificate):
    response = client.get("/api/v1/verify", query_string={"number": certificate.number.lower(), "name": " 张 小明 "})
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["张小", "张*明", "李小明", "张小明明"])
def test_a_wrong_name_is_not_found(client, certificate, name):
    response = client.get("/api/v1/verify", query_string={"number": certificate.number, "name": name})
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "未找到符合的证书：请核对证书编号和持证人姓名"
    page = client.get("/verify", query_string={"number": certificate.number, "name": name})
    assert page.status_code == 404 and "未找到符合的证书" in page.get_data(as_text=True)


@pytest.mark.parametrize("query, missing", [({"number": "WG-SG-2026-000001"}, "持证人姓名"),
                                            ({"name": "张小明"}, "证书编号"),
                                            ({"number": " ", "name": ""}, "证书编号")])
def test_a_missing_field_is_a_chinese_400(client, certificate, query, missing):
    api = client.get("/api/v1/verify", query_string=query)
    assert api.status_code == 400 and missing in api.get_json()["error"]["message"]
    page = client.get("/verify", query_string=query)
    assert page.status_code == 400 and missing in page.get_data(as_text=True)


def test_a_code_typed_in_lower_case_without_dashes_is_found(client, certificate):
    typed = certificate.verify_code.replace("-", "").lower()
    page = client.get("/verify", query_string={"code": typed})
    assert page.status_code == 200 and certificate.number in page.get_data(as_text=True)
    assert client.get(f"/verify/{typed}").status_code == 200
    assert client.get(f"/api/v1/verify/{typed}").status_code == 200


def test_an_empty_typed_code_is_a_chinese_400(client, certificate):
    page = client.get("/verify", query_string={"code": ""})
    assert page.status_code == 400 and "请填写核验码" in page.get_data(as_text=True)


@pytest.mark.parametrize("number, name", [("x" * 5000, "张小明"), ("' OR 1=1 --", "张小明"), (None, None),
                                          ("WG-SG-2026-000001", "好" * 500)])
def test_lookup_rejects_odd_input_quietly(app, certificate, number, name):
    assert queries.find_by_number_and_name(number, name) is None
