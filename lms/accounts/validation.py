"""Checks of personal fields; each returns a Chinese message or None."""
from __future__ import annotations

import datetime as dt
import re

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


def id_card_check_digit(first17: str) -> str:
    """GB 11643-1999 check character for the first 17 digits."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS)) % 11]


def normalise_id_card(text: str) -> str:
    return text.strip().replace(" ", "").upper()


def id_card_birth_date(number: str) -> dt.date | None:
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def check_id_card(number: str, today: dt.date | None = None) -> str | None:
    """18-digit resident ID: digits, embedded birth date, GB 11643 check digit."""
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return "身份证号应为 18 位（前 17 位数字，最后一位数字或 X）"
    birth = id_card_birth_date(number)
    if birth is None or birth > (today or dt.date.today()) or birth.year < 1900:
        return "身份证号中的出生日期（第 7–14 位）无效"
    expected = id_card_check_digit(number[:17])
    if number[17] != expected:
        return f"身份证号校验位错误（最后一位应为 {expected}），请核对是否输错"
    return None


def normalise_phone(text: str) -> str:
    digits = re.sub(r"[\s\-]", "", text.strip())
    return digits[3:] if digits.startswith("+86") else digits


def check_phone(number: str) -> str | None:
    if not _MOBILE.fullmatch(number):
        return "手机号应为 11 位数字、以 1 开头（如 13812345678）"
    return None


def parse_date(text: str) -> dt.date | None:
    """Dates as rosters write them: 2026-06-03, 2026/6/3, 2026年6月3日, 20260603."""
    text = text.strip()
    if " " in text:
        text = text.split(" ", 1)[0]
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


COMMON_PASSWORDS = frozenset({
    "12345678", "123456789", "1234567890", "password", "password1", "11111111", "88888888", "66666666",
    "00000000", "12341234", "abcd1234", "qwertyui", "qwerty123", "a1234567", "iloveyou", "admin123",
    "1qaz2wsx", "abc12345", "aa123456", "woaini1314", "87654321", "123123123",
})


def check_new_password(password: str, *, username: str = "", id_card: str | None = None) -> str | None:
    """OWASP-style: length over composition rules, refuse the obvious ones."""
    if len(password) < 8:
        return "新密码至少 8 位"
    if len(password) > 128:
        return "新密码不能超过 128 位"
    if password.lower() in COMMON_PASSWORDS or len(set(password)) <= 2:
        return "新密码太常见，容易被猜中，请换一个"
    if username and username.lower() in password.lower():
        return "新密码不能包含工号"
    if id_card and id_card[-6:] in password:
        return "新密码不能包含身份证号"
    return None
