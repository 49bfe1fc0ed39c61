"""Pages and exports that are GETs but write an audit entry: they must not fail after a quiet minute.

A GET reads in a deferred SQLite transaction; when the session loader records the session's activity on
its own connection first (last seen over a minute ago), turning that read into the audit write used to fail
at once with "database is locked" (a 500 on the HR's export after a coffee break).
"""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from lms.accounts.models import UserSession
from lms.audit.models import AuditEntry
from lms.extensions import db
from tests.factories import make_user
from tests.quizzes.factories import make_bank, make_quiz

AUDITED_GETS = [
    ("/exports/pairings.xlsx", "export.pairings"),
    ("/drills/stats.csv?org=HX", "export.drill_stats"),
    ("/quizzes/test-quiz/results.csv", "quizzes.export_results"),
    ("/users", "pii.view"),
    ("/exports/certificates.csv", "export.certificates"),
]


@pytest.fixture
def staff(tree):
    make_bank()
    make_quiz()
    make_user("w1", "worker", tree["g1"], phone="13800001111", id_card="330102199001011234")
    return make_user("boss", ["hr", "trainer", "pii"], tree["county"])


@pytest.mark.parametrize("url,action", AUDITED_GETS)
def test_an_audited_get_after_a_quiet_minute_is_answered_and_audited(app, api, staff, url, action):
    assert api.login("boss").status_code == 200
    quiet = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    db.session.execute(sa.update(UserSession).values(last_seen_at=quiet))
    db.session.commit()
    response = api.get(url, buffered=True)  # streamed bodies run in the request context, as under gunicorn
    body = response.get_data()
    assert response.status_code == 200, body[:500]
    assert body
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)).one()
    assert entry.actor_name == "boss"
    assert db.session.scalar(sa.select(UserSession.last_seen_at)) > quiet
