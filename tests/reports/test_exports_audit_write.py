"""Exports are GETs that write their audit entry: that write must not fail on SQLite after a quiet minute.

A GET reads in a deferred transaction; when the session loader then records
the session's last activity on its own connection, SQLite refuses to turn the
older read snapshot into a write ("database is locked", no waiting). The
export routes end the read first and write the audit in an immediate
transaction. Runs on PostgreSQL too, where it simply has to pass.
"""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from lms.accounts.models import UserSession
from lms.audit.models import AuditEntry
from lms.extensions import db
from tests.factories import make_user


@pytest.fixture
def hr(tree):
    return make_user("hrc", "hr", tree["county"], name="县人事")


def _quiet_for_five_minutes() -> None:
    db.session.execute(sa.update(UserSession).values(
        last_seen_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)))
    db.session.commit()


@pytest.mark.parametrize("path", ["/exports/certificates.csv", "/exports/certificates.xlsx",
                                  "/exports/certificates.zip", "/exports/team-gaps.xlsx",
                                  "/exports/trainings.xlsx"])
def test_an_export_after_a_quiet_minute_is_served_and_audited(api, hr, path):
    assert api.login("hrc").status_code == 200
    _quiet_for_five_minutes()
    response = api.get(path, buffered=True)  # the body streams inside the request's own context
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    target = path.rsplit("/", 1)[1]
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.target == target)) == 1
    assert db.session.scalar(sa.select(UserSession.last_seen_at)) > (
        dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1))
