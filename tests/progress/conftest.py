import pytest

from tests.progress.county import build_county


@pytest.fixture
def county(app):
    return build_county()
