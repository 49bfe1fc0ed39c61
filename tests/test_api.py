"""The API's shape: OpenAPI lists exactly the routes, errors are JSON, /me."""
from __future__ import annotations

from lms.api import openapi_document


def _api_routes(app) -> set[tuple[str, str]]:
    import re
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_openapi_lists_exactly_the_app_routes(app, client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert documented == _api_routes(app)
    assert ("/api/v1/session", "post") in documented and ("/api/v1/me", "get") in documented


def test_every_operation_documents_its_errors_with_the_error_schema(app):
    for path, ops in openapi_document()["paths"].items():
        for method, op in ops.items():
            assert op["summary"], (path, method)
            if op.get("security") != []:
                assert "401" in op["responses"], (path, method)


def test_unknown_api_route_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json() == {"error": {"code": "not_found", "message": "找不到请求的内容"}}


def test_api_without_login_is_a_json_401(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_me_lists_roles_with_their_scope(api, tree):
    from tests.factories import make_user
    make_user("m1", ["worker", ("mentor", tree["t1"])], tree["g1"], name="赵德山")
    api.login("m1")
    me = api.get("/api/v1/me").get_json()
    assert me["roles"] == [{"role": "worker", "org": "HX010101"}, {"role": "mentor", "org": "HX01"}]
    assert me["points"] == 0 and me["star"] == 0


def test_org_unit_route(api, tree):
    from tests.factories import make_user
    make_user("w1", "worker", tree["g1"])
    api.login("w1")
    body = api.get("/api/v1/orgs/HX0101").get_json()
    assert body["path"] == "红溪县 / 青石镇 / 桃源村"
    assert body["children"] == [{"code": "HX010101", "name": "桃源村第一网格", "kind": "grid", "households": 286,
                                 "grid_type": "rural"}]
    assert api.get("/api/v1/orgs/NOPE").status_code == 404
