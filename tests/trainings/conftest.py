"""People for training tests: trainers at each level, workers in both townships."""
from __future__ import annotations

import pytest

from tests.factories import make_user


@pytest.fixture
def people(tree):
    return {
        "ct": make_user("ct01", "trainer", tree["county"], name="县培训师"),
        "tt": make_user("tt01", "trainer", tree["t1"], name="镇培训师"),
        "tt2": make_user("tt02", "trainer", tree["t2"], name="街道培训师"),
        "vt": make_user("vt01", "trainer", tree["v1"], name="村培训师"),
        "w1": make_user("w001", "worker", tree["g1"], name="张小明"),
        "w2": make_user("w002", "worker", tree["v1"], name="李四"),
        "w3": make_user("w003", "worker", tree["g2"], name="王五"),
    }


@pytest.fixture
def recorded():
    """Collects attendance_recorded signals: [(user, kwargs)]."""
    from lms.signals import attendance_recorded
    calls = []

    def receiver(sender, **kwargs):
        calls.append((sender.username, kwargs))

    attendance_recorded.connect(receiver)
    yield calls
    attendance_recorded.disconnect(receiver)
