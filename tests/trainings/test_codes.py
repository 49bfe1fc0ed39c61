"""The rotating check-in code: derived from the clock; live, the code on screen and the two before it (at least two
full rotations); typed offline, the code of captured_at's step or a neighbour."""
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


def test_live_a_code_stays_valid_for_two_full_rotations_after_it_left_the_screen():
    # The current code and the two shown before it: a slow typist (issue #15: 70 s) still checks in.
    code = codes.current_code("app", "t1", T0)[0]
    for seconds in (0, 29, 30, 59, 60, 70, 89):
        assert codes.verify_code("app", "t1", code, T0 + dt.timedelta(seconds=seconds)), seconds
    assert not codes.verify_code("app", "t1", code, T0 + dt.timedelta(seconds=90))


def test_live_accepts_the_current_and_the_two_previous_steps():
    step = codes.time_step(T0)
    assert codes.accepted_steps(T0 + dt.timedelta(seconds=10)) == [step - 2, step - 1, step]
    assert codes.LIVE_STEPS_BACK >= 2


def test_forwarded_photo_of_a_code_is_useless_after_two_rotations():
    code = codes.current_code("app", "t1", T0)[0]
    assert not codes.verify_code("app", "t1", code, T0 + dt.timedelta(seconds=120))


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
