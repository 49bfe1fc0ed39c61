"""Lookup by number + name: no enumeration (a wrong name answers exactly like an unknown number), rate-limited.

| tries | expected |
| --- | --- |
| a real number with a wrong name, an unknown number, page and JSON | the same 404 body, naming nothing |
| malformed input (markup, SQL, 5,000 characters) | 400/404, never 500, markup not echoed raw |
| more lookups from one address than the window allows (shared with /verify/<code>) | 429, no certificate data |
"""
from __future__ import annotations

import pytest

from tests.certification.factories import make_certificate, make_program
from tests.factories import make_user

MALFORMED = ["<script>alert(1)</script>", "' OR '1'='1", "A" * 5000, "\x00", "１２３"]


@pytest.fixture
def certificate(tree):
    holder = make_user("w001", "worker", tree["g1"], name="张小明")
    return make_certificate(holder, make_program(), seed=11)


def test_a_wrong_name_answers_exactly_like_an_unknown_number(client, certificate):
    wrong_name = client.get("/api/v1/verify", query_string={"number": certificate.number, "name": "李四"})
    unknown = client.get("/api/v1/verify", query_string={"number": "WG-SG-2026-999999", "name": "李四"})
    assert wrong_name.status_code == unknown.status_code == 404
    assert wrong_name.get_data() == unknown.get_data()
    pages = [client.get("/verify", query_string={"number": n, "name": "李四"})
             for n in (certificate.number, "WG-SG-2026-999999")]
    assert [p.status_code for p in pages] == [404, 404]
    texts = [p.get_data(as_text=True).replace(n, "") for p, n in zip(pages, (certificate.number, "WG-SG-2026-999999"))]
    assert texts[0] == texts[1]
    assert "张*明" not in texts[0] and "网格员上岗证" not in texts[0]


@pytest.mark.parametrize("value", MALFORMED, ids=["markup", "sql", "long", "nul", "fullwidth"])
def test_malformed_lookups_never_fail(client, certificate, value):
    for query in ({"number": value, "name": "张小明"}, {"number": certificate.number, "name": value}):
        for url in ("/verify", "/api/v1/verify"):
            response = client.get(url, query_string=query)
            assert response.status_code in (400, 404), (url, query, response.status_code)
            assert "<script>alert(1)</script>" not in response.get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{"VERIFY_RATE_LIMIT": 3}])
def test_lookups_share_the_verification_rate_limit(client, certificate, app_config):
    query = {"number": certificate.number, "name": "张小明"}
    statuses = [client.get("/api/v1/verify", query_string=query).status_code,
                client.get(f"/api/v1/verify/{certificate.verify_code}").status_code,
                client.get("/api/v1/verify", query_string={**query, "name": "李四"}).status_code,
                client.get("/api/v1/verify", query_string=query).status_code]
    assert statuses == [200, 200, 404, 429]
    page = client.get("/verify", query_string=query)
    assert page.status_code == 429 and certificate.number not in page.get_data(as_text=True)
    assert "查询过于频繁" in client.get("/api/v1/verify", query_string=query).get_json()["error"]["message"]
