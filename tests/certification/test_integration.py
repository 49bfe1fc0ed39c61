"""Automatic issue through a real feature: a trainer's roll call earns hours, points and a certificate."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.certification.models import Certificate
from lms.extensions import db
from lms.points.queries import total_points
from lms.points.services import set_point_rules
from tests.certification.factories import make_program
from tests.factories import make_user

trainings = pytest.importorskip("lms.trainings.services")
training_factories = pytest.importorskip("tests.trainings.factories")


def test_roll_call_awards_points_and_issues_a_program_requiring_hours(tree):
    set_point_rules({"training_hour": 2})
    make_program("TRAIN-2", "培训达标", valid_months=12, requires={"training_hours": 2, "points": 4})
    trainer = make_user("t1", "trainer", tree["t1"], name="培训师")
    worker = make_user("w1", "worker", tree["g1"], name="李小红")
    training = training_factories.make_training(tree["t1"], trainer, hours="2")
    trainings.record_roll(trainer, training, ["w1"])
    db.session.commit()
    assert total_points(worker) == 4
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.holder_id == worker.id))
    assert certificate is not None and certificate.program.code == "TRAIN-2" and certificate.issued_by_id is None


def test_not_enough_hours_issues_nothing(tree):
    set_point_rules({"training_hour": 2})
    make_program("TRAIN-8", "培训达标", valid_months=12, requires={"training_hours": 8})
    trainer = make_user("t1", "trainer", tree["t1"])
    make_user("w1", "worker", tree["g1"])
    trainings.record_roll(trainer, training_factories.make_training(tree["t1"], trainer, hours="2"), ["w1"])
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0
