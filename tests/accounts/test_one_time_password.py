"""One-time passwords: digits and unambiguous capitals in two groups, accepted typed loosely while pending.

Only the canonical form ``XXXX-XXXX`` is hashed; login normalises what was typed (case, dashes, spaces) only
while the account still has to change its one-time password. Ordinary passwords stay exact and case-sensitive.
"""
from __future__ import annotations

import random
import re

import pytest

from lms.accounts import services
from lms.accounts.passwords import OTP_ALPHABET, canonical_one_time_password, one_time_password
from lms.extensions import db
from tests.factories import ApiClient, make_user

NEW_PASSWORD = "Qingshi-2026-river"


def test_generated_passwords_are_two_groups_of_four_unambiguous_characters():
    seen = {one_time_password() for _ in range(300)}
    assert len(seen) == 300
    for password in seen:
        assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}", password)
        assert not set(password) & set("01OIL")
    assert set(OTP_ALPHABET) == set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
    assert one_time_password(random.Random(7)) == one_time_password(random.Random(7))


@pytest.mark.parametrize("typed", ["4827-KMPX", "4827kmpx", " 4827 KMPX ", "4827－kmpx", "4827—KmPx"])
def test_typed_forms_normalise_to_the_canonical_one(typed):
    assert canonical_one_time_password(typed) == "4827-KMPX"


@pytest.mark.parametrize("typed", ["4827-KMP", "4827-KMPXY", "4827-KMP0", "I827-KMPX", "Qingshi-2026", ""])
def test_other_shapes_are_not_one_time_passwords(typed):
    assert canonical_one_time_password(typed) is None


@pytest.fixture
def pending(tree):
    hr = make_user("hr01", "hr", tree["county"])
    worker = make_user("w001", "worker", tree["g1"])
    temporary = services.reset_password(worker, actor=hr)
    db.session.commit()
    return temporary


def _typed_variants(temporary: str) -> list[str]:
    return [temporary, temporary.lower(), temporary.replace("-", ""), temporary.replace("-", "").lower(),
            temporary.replace("-", " ")]


def test_reset_password_has_the_grouped_shape(pending):
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}", pending)


@pytest.mark.parametrize("variant", range(5))
def test_login_accepts_the_one_time_password_in_lower_case_and_without_the_dash(client, pending, variant):
    typed = _typed_variants(pending)[variant]
    response = ApiClient(client).login("w001", typed)
    assert response.status_code == 200, (typed, response.get_json())
    assert response.get_json()["must_change_password"] is True


def test_html_login_accepts_the_one_time_password_typed_loosely(client, pending):
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', html).group(1)
    response = client.post("/login", data={"csrf_token": token, "username": "w001",
                                           "password": pending.lower().replace("-", "")})
    assert response.status_code == 302 and "/password" in response.headers["Location"]


def test_a_wrong_one_time_password_is_still_refused(client, pending):
    wrong = pending[:-1] + ("A" if pending[-1] != "A" else "B")
    response = ApiClient(client).login("w001", wrong.lower())
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "invalid_credentials"


def test_changing_the_password_takes_the_one_time_password_typed_loosely_but_not_as_the_new_one(client, pending):
    api = ApiClient(client)
    assert api.login("w001", pending.lower()).status_code == 200
    reused = api.post("/api/v1/password", json={"old": pending.lower(), "new": pending.replace("-", "").lower()})
    assert reused.status_code == 422 and reused.get_json()["error"]["code"] == "password_reused"
    changed = api.post("/api/v1/password", json={"old": pending.replace("-", ""), "new": NEW_PASSWORD})
    assert changed.status_code == 200
    # Once changed, the password is exact again: case matters and the old one-time password is gone.
    assert ApiClient(client.application.test_client()).login("w001", NEW_PASSWORD).status_code == 200
    assert ApiClient(client.application.test_client()).login("w001", NEW_PASSWORD.lower()).status_code == 401
    assert ApiClient(client.application.test_client()).login("w001", pending).status_code == 401


def test_ordinary_passwords_stay_case_sensitive_even_when_shaped_like_one(client, tree):
    make_user("w002", "worker", tree["g1"], password="ABCD-EFGH")
    assert ApiClient(client).login("w002", "abcd-efgh").status_code == 401
    assert ApiClient(client).login("w002", "ABCDEFGH").status_code == 401
    assert ApiClient(client.application.test_client()).login("w002", "ABCD-EFGH").status_code == 200


def test_a_created_account_gets_a_grouped_password_that_logs_in_typed_loosely(client, tree):
    make_user("hr01", "hr", tree["county"])
    hr = ApiClient(client)
    assert hr.login("hr01").status_code == 200
    created = hr.post("/api/v1/users", json={"name": "王五", "org": "HX010101"})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}", body["one_time_password"])
    login = ApiClient(client.application.test_client()).login(body["username"],
                                                               body["one_time_password"].replace("-", "").lower())
    assert login.status_code == 200 and login.get_json()["must_change_password"] is True
