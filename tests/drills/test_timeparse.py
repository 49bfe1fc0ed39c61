"""The drill time parser reads the times grid workers actually type."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.drills.timeparse import SHANGHAI, cn_to_int, is_specific, parse_time, unreadable_reason

# The story's "now": Thursday 4 June 2026, 09:30 in Shanghai.
REF = datetime(2026, 6, 4, 9, 30, tzinfo=SHANGHAI)


def at(month, day, hour=0, minute=0, year=2026):
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "text, start, precision",
    [
        ("2026-06-03 22:10", at(6, 3, 22, 10), "minute"),
        ("2026/6/3 22:10", at(6, 3, 22, 10), "minute"),
        ("2026.6.3 22:10", at(6, 3, 22, 10), "minute"),
        ("2026年6月3日22时10分", at(6, 3, 22, 10), "minute"),
        ("二〇二六年六月三日二十二时", at(6, 3, 22), "hour"),
        ("6月3日22时10分", at(6, 3, 22, 10), "minute"),
        ("6月3日 22：10", at(6, 3, 22, 10), "minute"),
        ("６月３日２２点", at(6, 3, 22), "hour"),
        ("六月三日晚上十点", at(6, 3, 22), "hour"),
        ("6月3日晚10点左右", at(6, 3, 21, 30), "hour"),
        ("6月3号下午3点半", at(6, 3, 15, 30), "minute"),
        ("昨晚十点多", at(6, 3, 22), "hour"),
        ("昨天晚上10点", at(6, 3, 22), "hour"),
        ("昨天夜里两点", at(6, 4, 2), "hour"),
        ("昨夜11点", at(6, 3, 23), "hour"),
        ("前天下午3点", at(6, 2, 15), "hour"),
        ("大前天上午9点", at(6, 1, 9), "hour"),
        ("今天早上7点20分", at(6, 4, 7, 20), "minute"),
        ("今早6点", at(6, 4, 6), "hour"),
        ("今晚8点半", at(6, 4, 20, 30), "minute"),
        ("今天凌晨两点", at(6, 4, 2), "hour"),
        ("昨天中午12点", at(6, 3, 12), "hour"),
        ("昨天中午1点", at(6, 3, 13), "hour"),
        ("昨天傍晚6点", at(6, 3, 18), "hour"),
        ("昨晚十点一刻", at(6, 3, 22, 15), "minute"),
        ("昨晚九点三刻", at(6, 3, 21, 45), "minute"),
        ("昨天晚上12点", at(6, 4, 0), "hour"),
        ("6月3日24点", at(6, 4, 0), "hour"),
        ("6月3日10点钟", at(6, 3, 10), "hour"),
        ("3号晚上9点", at(6, 3, 21), "hour"),
        ("上周三下午4点", at(5, 27, 16), "hour"),
        ("周一上午10点", at(6, 1, 10), "hour"),
        ("3小时前", at(6, 4, 6, 30), "hour"),
        ("20分钟前", at(6, 4, 9, 10), "minute"),
        ("今天上午", at(6, 4, 6), "part_of_day"),
        ("昨晚", at(6, 3, 18), "part_of_day"),
        ("昨天", at(6, 3), "day"),
        ("6月1日", at(6, 1), "day"),
        ("2天前", at(6, 2), "day"),
    ],
)
def test_parses_common_written_forms(text, start, precision):
    parsed = parse_time(text, REF)
    assert parsed is not None, text
    assert (parsed.start, parsed.precision) == (start, precision)
    assert parsed.start.tzinfo is not None and parsed.end > parsed.start


@pytest.mark.parametrize("text, hour", [("凌晨两点", 2), ("中午12点", 12), ("晚上十点一刻", 22), ("8点半", 8)])
def test_time_without_date_word_is_read_but_marked_dateless(text, hour):
    parsed = parse_time(text, REF)
    assert parsed.at.hour == hour
    assert parsed.has_date is False
    assert parsed.at <= REF
    assert not is_specific(parsed)


def test_dateless_time_later_than_now_falls_on_the_day_before():
    assert parse_time("晚上十点", REF).at == at(6, 3, 22)
    assert parse_time("早上8点", REF).at == at(6, 4, 8)


@pytest.mark.parametrize("text", ["十点多", "10点左右", "大约晚上10点", "约22:10", "22时许", "昨晚十点前后"])
def test_approximate_words_mark_the_time_approximate(text):
    assert parse_time(text, REF).approximate is True


def test_exact_time_is_not_approximate():
    assert parse_time("6月3日22:10", REF).approximate is False


def test_date_without_year_takes_the_year_closest_to_reference():
    new_year = datetime(2026, 1, 2, 9, 0, tzinfo=SHANGHAI)
    assert parse_time("12月31日晚8点", new_year).at == datetime(2025, 12, 31, 20, 0, tzinfo=SHANGHAI)


def test_bare_day_of_month_takes_the_closest_month():
    early_july = datetime(2026, 7, 2, 9, 0, tzinfo=SHANGHAI)
    assert parse_time("30号上午9点", early_july).at == at(6, 30, 9)


def test_reference_in_another_zone_is_converted_to_shanghai():
    utc_ref = datetime(2026, 6, 4, 1, 30, tzinfo=timezone.utc)  # 09:30 in Shanghai
    assert parse_time("昨晚十点", utc_ref).at == at(6, 3, 22)


@pytest.mark.parametrize("text", ["最近", "前几天晚上", "近日"])
def test_vague_words_are_vague(text):
    parsed = parse_time(text, REF)
    assert parsed.precision in ("vague", "part_of_day")
    assert not is_specific(parsed)


@pytest.mark.parametrize("text", ["", "   ", "不知道", "abc", "25点", "2月30日", "13月1日", "10:75", None, 42, ["昨晚"]])
def test_unreadable_or_impossible_times_give_none(text):
    assert parse_time(text, REF) is None


@pytest.mark.parametrize("text, reason", [
    ("６月３日晚上25点", "没有25点"), ("昨晚二十五点", "没有25点"), ("25:10", "没有25点"),
    ("6月3日 22:75", "“22:75”的分钟数不对"), ("6月3日10点70分", "没有70分"), ("13月1日上午9点", "没有13月"),
    ("2月30日上午9点", "2月没有30日"), ("6月31日", "6月没有31日"),
])
def test_an_impossible_time_is_explained(text, reason):
    assert parse_time(text, REF) is None
    assert reason in unreadable_reason(text)


@pytest.mark.parametrize("text", ["不知道", "abc", "", None, 42, "2月29日上午9点"])
def test_nothing_specific_to_explain_gives_none(text):
    assert unreadable_reason(text) is None


@pytest.mark.parametrize(
    "text, specific",
    [("6月3日22时10分", True), ("昨晚十点多", True), ("昨晚", False), ("昨天下午", False),
     ("6月3日", False), ("晚上十点", False), ("最近", False)],
)
def test_specific_means_a_day_and_at_least_the_hour(text, specific):
    assert is_specific(parse_time(text, REF)) is specific


def test_is_specific_of_none_is_false():
    assert is_specific(None) is False


def test_describe_shows_normalised_time():
    assert parse_time("昨晚十点多", REF).describe() == "2026年6月3日 22:00（约）"


@pytest.mark.parametrize(
    "text, value",
    [("十", 10), ("十一", 11), ("二十三", 23), ("两", 2), ("两百", 200), ("一百零五", 105), ("三千", 3000),
     ("两万", 20000), ("二〇二六", 2026), ("23", 23), ("２３", 23), ("三四", None), ("十十", None), ("万", None),
     ("几", None), ("", None)],
)
def test_chinese_numerals(text, value):
    assert cn_to_int(text) == value


CN = "零一二三四五六七八九"


def cn(n: int) -> str:
    """Chinese numeral as people write it, for 0–99."""
    if n < 10:
        return CN[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN[tens]) + "十" + (CN[ones] if ones else "")


@given(st.integers(0, 99999))
def test_chinese_numeral_roundtrip_below_a_hundred_thousand(n):
    # Build the standard reading for n and check the parser agrees.
    digits = [int(d) for d in f"{n:05d}"]
    units = ["万", "千", "百", "十", ""]
    text, zero = "", False
    for d, unit in zip(digits, units):
        if d == 0:
            zero = bool(text)
            continue
        if zero:
            text += "零"
            zero = False
        text += CN[d] + unit
    text = text or "零"
    assert cn_to_int(text) == n


days = st.dates(min_value=date(2025, 12, 10), max_value=date(2026, 11, 30))


@settings(max_examples=150)
@given(days, st.integers(0, 23), st.booleans())
def test_every_month_day_hour_parses_to_that_hour(day, hour, chinese):
    reference = datetime(2026, 6, 4, 9, 30, tzinfo=SHANGHAI)
    text = f"{cn(day.month)}月{cn(day.day)}日{cn(hour)}点" if chinese else f"{day.month}月{day.day}日{hour}点"
    parsed = parse_time(text, reference)
    assert parsed is not None
    assert (parsed.at.month, parsed.at.day, parsed.at.hour, parsed.precision) == (day.month, day.day, hour, "hour")
    assert abs((parsed.at.date() - reference.date()).days) <= 183


@settings(max_examples=100)
@given(st.integers(1, 11), st.sampled_from(["晚上", "下午"]), st.integers(1, 28))
def test_afternoon_and_evening_hours_are_after_noon(hour, part, day):
    if part == "晚上" and hour <= 4:
        hour = hour + 4  # 晚上1点 is after midnight, covered by its own test
    parsed = parse_time(f"5月{day}日{part}{hour}点", REF)
    assert parsed.at.hour == hour + 12


@settings(max_examples=200)
@given(st.text(max_size=60))
def test_parse_time_never_raises_on_any_text(text):
    parsed = parse_time(text, REF)
    assert parsed is None or parsed.start <= parsed.at < parsed.end + timedelta(minutes=1)
