"""大字 and read-aloud speed follow the person (shared tablets): stored on the account, put on <html>."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from lms.accounts.models import UserPreference
from lms.extensions import db
from tests.factories import ApiClient, make_user


@pytest.fixture
def people(tree):
    return {"w1": make_user("w001", "worker", tree["g1"]), "w2": make_user("w002", "worker", tree["g1"])}


def _html_tag(client, url: str = "/") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return re.search(r"<html[^>]*>", response.get_data(as_text=True)).group(0)


def test_preferences_start_unchosen(client, people):
    api = ApiClient(client)
    api.login("w001")
    assert api.client.get("/api/v1/me/preferences").get_json() == {"large_text": None, "speech_rate": 1.0}
    tag = _html_tag(client)
    assert "data-large-text" not in tag and 'class=""' in tag and 'data-speech-rate="1"' in tag


def test_put_stores_them_on_the_account_and_base_html_applies_them(client, people):
    api = ApiClient(client)
    api.login("w001")
    response = api.put("/api/v1/me/preferences", json={"large_text": True, "speech_rate": 0.8})
    assert response.status_code == 200
    assert response.get_json() == {"large_text": True, "speech_rate": 0.8}
    tag = _html_tag(client)
    assert 'class="large-text"' in tag and 'data-large-text="1"' in tag and 'data-speech-rate="0.8"' in tag
    # Only the given key changes.
    assert api.put("/api/v1/me/preferences", json={"speech_rate": 1.2}).get_json() == {
        "large_text": True, "speech_rate": 1.2}
    assert api.put("/api/v1/me/preferences", json={"large_text": False}).get_json()["large_text"] is False
    assert 'data-large-text="0"' in _html_tag(client) and 'class="large-text"' not in _html_tag(client)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserPreference)) == 1


def test_the_next_person_on_the_same_tablet_gets_their_own_settings(client, people):
    api = ApiClient(client)
    api.login("w001")
    api.put("/api/v1/me/preferences", json={"large_text": True, "speech_rate": 1.2})
    assert api.client.delete("/api/v1/session", headers={"X-CSRFToken": api.csrf}).status_code == 200
    # Before login: nothing from the account (the device's own setting applies in the browser).
    assert "data-large-text" not in _html_tag(client, "/login") and "data-speech-rate" not in _html_tag(client, "/login")
    other = ApiClient(client)
    other.login("w002")
    tag = _html_tag(client)
    assert "large-text" not in tag and 'data-speech-rate="1"' in tag


@pytest.mark.parametrize("body, code", [
    ({"speech_rate": 2}, "invalid_speech_rate"),
    ({"speech_rate": "1.2"}, "invalid_speech_rate"),
    ({"speech_rate": True}, "invalid_speech_rate"),
    ({"large_text": "yes"}, "invalid_large_text"),
    ({"large_text": 1}, "invalid_large_text"),
])
def test_bad_values_are_refused_in_chinese_and_nothing_is_written(client, people, body, code):
    api = ApiClient(client)
    api.login("w001")
    response = api.put("/api/v1/me/preferences", json={**body, "large_text" if "speech_rate" in body else
                                                        "speech_rate": True if "speech_rate" in body else 1.2})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == code and re.search(r"[\u4e00-\u9fff]", error["message"])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserPreference)) == 0


def test_an_empty_body_is_a_bad_request(client, people):
    api = ApiClient(client)
    api.login("w001")
    response = api.put("/api/v1/me/preferences", json={})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"


def test_put_needs_login_and_csrf(client, people):
    assert client.put("/api/v1/me/preferences", json={"large_text": True}).status_code in (400, 401)
    api = ApiClient(client)
    api.login("w001")
    response = client.put("/api/v1/me/preferences", json={"large_text": True})  # no X-CSRFToken
    assert response.status_code in (400, 403)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserPreference)) == 0


def test_the_route_is_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"get", "put"} <= set(paths["/api/v1/me/preferences"])
