"""Factory functions: add, commit (so requests in their own app context see them), return."""
from __future__ import annotations

import itertools

from lms.accounts.models import Role
from lms.accounts.services import create_user
from lms.extensions import db
from lms.org.models import GridType, OrgKind
from lms.org.queries import get_org
from lms.org.services import create_org

PASSWORD = "Correct-Horse-42"
_counter = itertools.count(1)


def make_org(code: str, kind: OrgKind | str = OrgKind.grid, parent=None, name: str | None = None,
             households: int | None = None, grid_type: GridType | None = None):
    unit = create_org(code, name or f"单位{code}", OrgKind(kind), parent, households, grid_type)
    db.session.commit()
    return unit


def make_tree() -> dict:
    county = make_org("HX", "county", name="红溪县")
    t1 = make_org("HX01", "township", county, name="青石镇")
    t2 = make_org("HX02", "township", county, name="城关街道")
    v1 = make_org("HX0101", "village", t1, name="桃源村")
    v2 = make_org("HX0201", "village", t2, name="和平社区")
    g1 = make_org("HX010101", "grid", v1, name="桃源村第一网格", households=286, grid_type=GridType.rural)
    g2 = make_org("HX020101", "grid", v2, name="和平社区第一网格", households=420, grid_type=GridType.urban)
    return {"county": county, "t1": t1, "t2": t2, "v1": v1, "v2": v2, "g1": g1, "g2": g2}


def make_user(username: str | None = None, role: str | list = "worker", org=None, *, password: str = PASSWORD,
              must_change_password: bool = False, **fields):
    """role: 'hr', or a list like ['worker', ('pii', org)]; org defaults to the root."""
    org = org or get_org("HX")
    username = username or f"u{next(_counter):04d}"
    grants = []
    for item in role if isinstance(role, list) else [role]:
        if isinstance(item, tuple):
            grants.append((Role(item[0]), item[1]))
        else:
            grants.append((Role(item), org))
    user = create_user(username=username, name=fields.pop("name", "测试员"), org=org, roles=grants,
                       password=password, must_change_password=must_change_password, **fields)
    db.session.commit()
    return user


class ApiClient:
    """Test client with the JSON API's login and CSRF header handled."""

    def __init__(self, client):
        self.client = client
        self.csrf = None

    def login(self, username: str, password: str = PASSWORD, **kwargs):
        response = self.client.post("/api/v1/session", json={"username": username, "password": password}, **kwargs)
        if response.status_code == 200:
            self.csrf = response.get_json()["csrf_token"]
        return response

    def _headers(self, headers):
        merged = {"X-CSRFToken": self.csrf} if self.csrf else {}
        merged.update(headers or {})
        return merged

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url, json=None, headers=None, **kwargs):
        return self.client.post(url, json=json, headers=self._headers(headers), **kwargs)

    def put(self, url, json=None, headers=None, **kwargs):
        return self.client.put(url, json=json, headers=self._headers(headers), **kwargs)

    def delete(self, url, headers=None, **kwargs):
        return self.client.delete(url, headers=self._headers(headers), **kwargs)
