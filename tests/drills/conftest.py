"""Fixtures shared by the drill tests: the imported night-noise drill and a worker of the first grid."""
from __future__ import annotations

import pytest

from lms.drills import queries
from tests.drills.factories import NOISE, import_noise
from tests.factories import make_user


@pytest.fixture
def noise(tree, tmp_path):
    import_noise(tmp_path)
    return queries.get_drill(NOISE)


@pytest.fixture
def worker(tree, noise):
    return make_user("w-qs", "worker", tree["g1"], name="张小明")
