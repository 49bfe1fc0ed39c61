"""Fixtures of the consultation tests: the imported pension fixture and a worker of the first grid."""
from __future__ import annotations

import pytest

from lms.consultations import queries
from tests.consultations.factories import PENSION, import_pension
from tests.factories import make_user


@pytest.fixture
def pension(tree, tmp_path):
    import_pension(tmp_path)
    return queries.get_consultation(PENSION)


@pytest.fixture
def worker(tree, pension):
    return make_user("w-qs", "worker", tree["g1"], name="张小明")
