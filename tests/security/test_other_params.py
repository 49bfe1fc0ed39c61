"""Other: absurd list parameters answer 400 ``invalid_parameter``, never a 500 (issue 13, item 13).

| tries | expected |
| --- | --- |
| ``?page=99999999999999999999`` on /api/v1/certificates and /users | 400 ``invalid_parameter`` / Chinese page |
| ``/api/v1/stats?from=0001-01-01&to=9999-12-31`` | 400 ``invalid_parameter`` naming the date |
| ``page`` negative or beyond 10^6, dates before 1900 or after 2100, on every GET route without path variables | 400 (JSON error body under /api/, a Chinese page elsewhere), never 500 |
| then ``page=0``, ``page=abc``, ``page=1000000``, dates inside 1900–2100 on the same URLs | not refused by the range check |
"""
from __future__ import annotations

import pytest

from tests.factories import make_user

ABSURD = [
    "page=99999999999999999999",
    "page=-1",
    "page=1000001",
    "from=0001-01-01&to=9999-12-31",
    "from=1899-12-31",
    "to=2101-01-01",
    "issued_from=0001-01-01",
    "issued_to=9999-12-31",
]


@pytest.fixture
def admin(tree):
    return make_user("root1", ["admin", "hr", "pii", "trainer"], tree["county"], name="管理员")


def _list_routes(app) -> list[str]:
    """Every GET route without path variables (lists, statistics, exports, pages)."""
    skip = ("/static", "/api/v1/session", "/logout", "/sw.js", "/healthz", "/manifest.webmanifest", "/offline")
    return sorted({rule.rule for rule in app.url_map.iter_rules()
                   if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith(skip)})


def _assert_refused(response, path: str):
    assert response.status_code == 400, (path, response.status_code)
    if path.startswith("/api/"):
        error = response.get_json()["error"]
        assert error["code"] == "invalid_parameter"
        assert "超出范围" in error["message"]
    else:
        assert "超出范围" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/api/v1/certificates?page=99999999999999999999",
                                 "/users?page=99999999999999999999",
                                 "/api/v1/stats?from=0001-01-01&to=9999-12-31"])
def test_probe_urls_answer_400_invalid_parameter(client, api, admin, url):
    api.login("root1")
    response = client.get(url)
    _assert_refused(response, url)
    if "from=" in url:
        assert "起始日期" in response.get_json()["error"]["message"]
    # In range, or merely malformed (left to the route's own message): not refused by the range check.
    for query in ("page=0", "page=abc", "page=1000000", "from=1900-01-01&to=2100-12-31"):
        other = client.get(url.split("?")[0] + "?" + query)
        assert other.status_code != 500, query
        assert ((other.get_json(silent=True) or {}).get("error") or {}).get("code") != "invalid_parameter", query


@pytest.mark.parametrize("query", ABSURD)
def test_every_list_route_refuses_absurd_parameters_with_400(app, client, api, admin, query):
    api.login("root1")
    routes = _list_routes(app)
    assert "/api/v1/certificates" in routes and "/users" in routes
    failures = []
    for path in routes:
        response = client.get(f"{path}?{query}")
        if response.status_code != 400:
            failures.append((path, response.status_code))
            continue
        _assert_refused(response, path)
    assert failures == []
