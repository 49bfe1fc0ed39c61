"""Certificates: numbering, automatic issue, revoke, renew, expire, reminders, rate limit."""
from __future__ import annotations

import datetime as dt
import random
import types

import pytest
import sqlalchemy as sa

from lms import signals
from lms.audit.models import AuditEntry
from lms.certification import codes, facts, services
from lms.certification.models import Certificate, CertificateStatus, VerifyLookup
from lms.certification.queries import local_today, star_of, valid_program_codes
from lms.certification.rules import HolderFacts
from lms.errors import Conflict, TooManyRequests, ValidationError
from lms.extensions import db
from lms.points.services import set_point_rules
from tests.certification.factories import NOW, make_certificate, make_program
from tests.factories import make_user


@pytest.fixture
def worker(tree):
    return make_user("w1", "worker", tree["g1"], name="李小红")


def _facts(**fields):
    def provider(user, today=None):
        return HolderFacts(**fields)
    return provider


def test_numbers_run_per_program_and_year(worker, tree):
    sg = make_program("WG-SG", "网格员上岗证")
    star = make_program("STAR-1", "一星级网格员", valid_months=12, star=1)
    other = make_user("w2", "worker", tree["g2"])
    a = make_certificate(worker, sg)
    b = make_certificate(other, sg)
    c = make_certificate(worker, star)
    d = make_certificate(other, star, now=NOW.replace(year=2027))
    assert [a.number, b.number, c.number, d.number] == [
        "WG-SG-2026-000001", "WG-SG-2026-000002", "STAR-1-2026-000001", "STAR-1-2027-000001"]
    assert codes.parse_number(a.number) == ("WG-SG", 2026, 1)


def test_number_collision_retries_with_the_next_sequence(worker, tree, monkeypatch):
    sg = make_program()
    first = make_certificate(worker, sg)
    other = make_user("w2", "worker", tree["g1"])
    # A concurrent issuer read the same max(seq): simulate by hiding our first certificate from the max() once.
    real_scalar = db.session.scalar
    calls = []

    def stale_max(statement, *args, **kwargs):
        if "max(certificates.seq)" in str(statement) and not calls:
            calls.append(1)
            return 0
        return real_scalar(statement, *args, **kwargs)

    monkeypatch.setattr(db.session, "scalar", stale_max)
    second = services.issue_certificate(None, other, sg, reason="x", now=NOW)
    monkeypatch.undo()
    db.session.commit()
    assert calls and first.number.endswith("000001") and second.number.endswith("000002")


def test_verify_code_has_enough_randomness_and_is_unique(worker):
    sg = make_program()
    certificate = make_certificate(worker, sg)
    assert codes.is_verify_code(certificate.verify_code) and len(certificate.verify_code) >= 14  # 62^14 > 2^80


def test_validity_ends_the_day_before_the_anniversary():
    assert services.validity_end(dt.date(2026, 6, 3), 36) == dt.date(2029, 6, 2)
    assert services.validity_end(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 27)


def test_automatic_issue_when_rules_hold_with_a_fake_facts_provider(worker):
    make_program("WG-SG", requires={"courses": ["c1"], "drills_accepted": 3})
    make_program("STAR-1", "一星级网格员", valid_months=12, star=1, position=1,
                 requires={"certificates": ["WG-SG"], "points": 10})
    assert services.evaluate_holder(worker, now=NOW, facts_provider=_facts(completed_courses=frozenset({"c1"}),
                                                                           drills_accepted=2)) == []
    issued = services.evaluate_holder(worker, now=NOW, facts_provider=_facts(
        completed_courses=frozenset({"c1"}), drills_accepted=3, points=10))
    db.session.commit()
    # 上岗证 first, and in the same pass the star level that requires it.
    assert [c.program.code for c in issued] == ["WG-SG", "STAR-1"]
    assert all(c.issued_by_id is None and c.reason == services.AUTO_ISSUE_REASON for c in issued)
    assert star_of(worker, today=local_today(NOW)) == 1
    # Holding them, nothing more is issued.
    assert services.evaluate_holder(worker, now=NOW, facts_provider=_facts(
        completed_courses=frozenset({"c1"}), drills_accepted=3, points=10,
        valid_certificates=frozenset(valid_program_codes(worker, today=local_today(NOW))))) == []
    actions = [e.action for e in db.session.scalars(sa.select(AuditEntry))]
    assert actions.count("certificates.issue") == 2


def test_program_requiring_nothing_is_never_issued_automatically(worker):
    make_program("HONOR", "荣誉证书")
    assert services.evaluate_holder(worker, now=NOW, facts_provider=_facts(points=999)) == []


def test_revoked_program_is_not_reissued_automatically(worker):
    sg = make_program(requires={"points": 1})
    certificate = make_certificate(worker, sg)
    services.revoke_certificate(None, certificate, "材料造假", now=NOW)
    assert services.evaluate_holder(worker, now=NOW, facts_provider=_facts(points=5)) == []


def test_points_signals_issue_a_certificate_through_the_real_wiring(worker):
    set_point_rules({"lesson_complete": 5}, now=NOW)
    make_program("PTS", "学习积极分子", valid_months=12, requires={"points": 10})
    db.session.commit()
    signals.lesson_completed.send(worker, lesson=types.SimpleNamespace(id=1, title="一"), course=None, now=NOW)
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0
    signals.lesson_completed.send(worker, lesson=types.SimpleNamespace(id=2, title="二"), course=None, now=NOW)
    certificate = db.session.scalar(sa.select(Certificate))
    assert certificate is not None and certificate.program.code == "PTS" and certificate.holder_id == worker.id


def test_signal_wiring_uses_the_facts_provider(worker, monkeypatch):
    make_program("DRILL", "上报能手", valid_months=12, requires={"drills_accepted": 1})
    monkeypatch.setattr(facts, "holder_facts", _facts(drills_accepted=1))
    signals.drill_accepted.send(worker, report=types.SimpleNamespace(id=4), now=NOW)
    assert [c.program.code for c in db.session.scalars(sa.select(Certificate))] == ["DRILL"]


def test_failing_evaluation_does_not_break_the_learners_event(worker, monkeypatch):
    make_program("DRILL", "上报能手", valid_months=12, requires={"drills_accepted": 1})

    def broken(user, today=None):
        raise RuntimeError("facts unavailable")

    monkeypatch.setattr(facts, "holder_facts", broken)
    signals.drill_accepted.send(worker, report=types.SimpleNamespace(id=4), now=NOW)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0


def test_real_facts_gather_without_error_and_report_missing_sources(worker):
    result = facts.holder_facts(worker, today=local_today(NOW))
    assert result.points == 0 and result.valid_certificates == frozenset()
    assert isinstance(facts.missing_sources(), list)


def test_revoke_needs_a_reason_and_cannot_happen_twice(worker):
    certificate = make_certificate(worker, make_program())
    with pytest.raises(ValidationError):
        services.revoke_certificate(None, certificate, "  ")
    services.revoke_certificate(None, certificate, "离岗", now=NOW)
    assert certificate.status == CertificateStatus.revoked and certificate.revoked_reason == "离岗"
    with pytest.raises(Conflict):
        services.revoke_certificate(None, certificate, "再次")


def test_renewal_keeps_history_and_continues_validity(worker):
    certificate = make_certificate(worker, make_program(valid_months=12))
    renewed = services.renew_certificate(None, certificate, "复训合格", now=NOW + dt.timedelta(days=300))
    db.session.commit()
    assert renewed.renewal_of_id == certificate.id and certificate.status == CertificateStatus.valid
    assert renewed.expires_on == dt.date(2028, 6, 2)  # starts the day after 2027-06-02
    with pytest.raises(Conflict):
        services.renew_certificate(None, certificate, "再续", now=NOW)
    services.revoke_certificate(None, renewed, "x", now=NOW)
    with pytest.raises(Conflict):
        services.renew_certificate(None, renewed, "续发已撤销的", now=NOW)


def test_manual_issue_rules(worker, tree):
    sg = make_program()
    with pytest.raises(ValidationError):
        services.issue_manually(None, worker, sg, "")
    services.issue_manually(None, worker, sg, "补发", now=NOW)
    with pytest.raises(Conflict):
        services.issue_manually(None, worker, sg, "重复", now=NOW)
    retired = make_program("OLD", "旧证", retired=True)
    with pytest.raises(ValidationError):
        services.issue_manually(None, worker, retired, "补发", now=NOW)


def test_expiry_marks_certificates_past_their_last_day(worker):
    certificate = make_certificate(worker, make_program(valid_months=12))
    last_day = dt.datetime(2027, 6, 2, 15, 0, tzinfo=dt.timezone.utc)  # 23:00 on 2027-06-02 in Shanghai
    assert services.expire_due(now=last_day) == 0
    assert services.expire_due(now=last_day + dt.timedelta(hours=2)) == 1
    assert certificate.status == CertificateStatus.expired
    assert db.session.scalar(sa.select(AuditEntry.action).where(AuditEntry.action == "certificates.expire"))


def _messages(user):
    from lms.inbox.models import Message
    return list(db.session.scalars(sa.select(Message).where(Message.user_id == user.id).order_by(Message.id)))


def test_reminders_60_and_30_days_before_expiry_once_each(worker):
    pytest.importorskip("lms.inbox.models")
    certificate = make_certificate(worker, make_program(valid_months=12))  # last day 2027-06-02
    assert services.send_reminders(now=dt.datetime(2027, 3, 1, tzinfo=dt.timezone.utc)) == 0
    day60 = dt.datetime(2027, 4, 3, 2, tzinfo=dt.timezone.utc)
    assert services.send_reminders(now=day60) == 1
    assert services.send_reminders(now=day60 + dt.timedelta(days=1)) == 0
    day30 = dt.datetime(2027, 5, 3, 2, tzinfo=dt.timezone.utc)
    assert services.send_reminders(now=day30) == 1
    assert services.send_reminders(now=day30 + dt.timedelta(days=5)) == 0
    messages = _messages(worker)
    assert len(messages) == 2 and "网格员上岗证" in messages[0].title and certificate.number in messages[1].body


def test_renewed_certificate_gets_no_reminder(worker):
    pytest.importorskip("lms.inbox.models")
    certificate = make_certificate(worker, make_program(valid_months=12))
    services.renew_certificate(None, certificate, "续", now=NOW)
    assert services.send_reminders(now=dt.datetime(2027, 5, 3, 2, tzinfo=dt.timezone.utc)) == 0


def test_run_periodic_expires_issues_renews_and_reminds(worker, tree):
    pytest.importorskip("lms.inbox.models")
    sg = make_program("WG-SG", valid_months=12, requires={"points": 5})
    old = make_certificate(worker, sg)
    other = make_user("w2", "worker", tree["g1"])
    provider = _facts(points=10)
    # 20 days before the end: still qualified -> renewed automatically; the other worker qualifies -> issued.
    now = dt.datetime(2027, 5, 13, 2, tzinfo=dt.timezone.utc)
    summary = services.run_periodic(now, facts_provider=provider, rng=random.Random(1))
    assert summary["issued"] == 1 and summary["renewed"] == 1 and summary["expired"] == 0
    renewal = db.session.scalar(sa.select(Certificate).where(Certificate.renewal_of_id == old.id))
    assert renewal.reason == services.AUTO_RENEW_REASON
    assert valid_program_codes(other, today=local_today(now)) == {"WG-SG"}
    later = dt.datetime(2027, 6, 4, 2, tzinfo=dt.timezone.utc)
    assert services.run_periodic(later, facts_provider=provider)["expired"] == 1


def test_verify_lookups_are_limited_per_address(app):
    app.config["VERIFY_RATE_LIMIT"] = 3
    for _ in range(3):
        services.count_lookup("10.0.0.1", now=NOW)
    with pytest.raises(TooManyRequests):
        services.count_lookup("10.0.0.1", now=NOW)
    services.count_lookup("10.0.0.2", now=NOW)  # another address is not affected
    services.count_lookup("10.0.0.1", now=NOW + dt.timedelta(minutes=11))  # the window slid on
    db.session.flush()
    assert services.prune_lookups(now=NOW + dt.timedelta(hours=12)) == 0
    assert services.prune_lookups(now=NOW + dt.timedelta(days=2)) == 5
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VerifyLookup)) == 0
