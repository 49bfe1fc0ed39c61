"""The rotating check-in code: derived from the clock; live, the code on screen (the previous one for a short grace
after the change); typed offline, the code of captured_at's step or a neighbour."""
from __future__ import annotations

import datetime as dt

import pytest

from lms.trainings import codes

T0 = dt.datetime(2026, 3, 15, 1, 0, 0, tzinfo=dt.timezone.utc)  # 09:00 in Shanghai, on a step boundary


def test_code_is_six_digits_and_stable_within_a_step():
    first = codes.current_code("app", "t1", T0)[0]
    assert len(first) == 6 and first.isdigit()
    assert codes.current_code("app", "t1", T0 + dt.timedelta(seconds=29))[0] == first


def test_code_changes_with_the_step_the_training_and_the_app_secret():
    base = codes.code_for_step("app", "t1", 1000)
    others = {codes.code_for_step("app", "t1", 1001), codes.code_for_step("app", "t2", 1000),
              codes.code_for_step("other-app", "t1", 1000)}
    assert base not in others


def test_code_of_the_previous_step_is_accepted_only_for_the_grace_after_the_change():
    code = codes.current_code("app", "t1", T0)[0]
    assert codes.verify_code("app", "t1", code, T0 + dt.timedelta(seconds=30 + codes.GRACE_SECONDS - 1))
    assert not codes.verify_code("app", "t1", code, T0 + dt.timedelta(seconds=30 + codes.GRACE_SECONDS))


def test_live_only_one_code_is_valid_for_most_of_a_step():
    assert codes.accepted_steps(T0 + dt.timedelta(seconds=10)) == [codes.time_step(T0) - 1, codes.time_step(T0)]
    assert codes.accepted_steps(T0 + dt.timedelta(seconds=codes.GRACE_SECONDS)) == [codes.time_step(T0)]


def test_forwarded_photo_of_a_code_is_useless_after_the_grace():
    code = codes.current_code("app", "t1", T0)[0]
    assert not codes.verify_code("app", "t1", code, T0 + dt.timedelta(seconds=60))


def test_offline_code_is_checked_at_its_captured_time_plus_or_minus_one_step():
    code = codes.current_code("app", "t1", T0)[0]
    later = T0 + dt.timedelta(hours=3)
    assert not codes.verify_code("app", "t1", code, later)
    for offset in (-30, 0, 29, 59):
        assert codes.verify_code("app", "t1", code, later, captured_at=T0 + dt.timedelta(seconds=offset))
    for offset in (-31, 60):
        assert not codes.verify_code("app", "t1", code, later, captured_at=T0 + dt.timedelta(seconds=offset))


def test_code_from_the_future_is_refused():
    upcoming = codes.current_code("app", "t1", T0 + dt.timedelta(seconds=30))[0]
    assert not codes.verify_code("app", "t1", upcoming, T0)


def test_another_trainings_code_is_refused():
    code = codes.current_code("app", "t2", T0)[0]
    assert not codes.verify_code("app", "t1", code, T0)


def test_full_width_digits_and_spaces_are_accepted():
    code = codes.current_code("app", "t1", T0)[0]
    typed = " ".join(chr(ord("０") + int(d)) for d in code)
    assert codes.verify_code("app", "t1", typed, T0)


@pytest.mark.parametrize("typed", [None, "", "12345", "1234567", "abcdef", "１２３４５a", True, 12.5, ["123456"], "١٢٣٤٥٦"])
def test_malformed_codes_normalise_to_none(typed):
    assert codes.normalise_code(typed) is None


def test_step_end_is_the_next_boundary():
    step = codes.time_step(T0 + dt.timedelta(seconds=12))
    assert codes.step_ends_at(step) == T0 + dt.timedelta(seconds=30)
