"""Masking of personal data for roles without the `pii` permission (API.md)."""
from __future__ import annotations


def mask_name(name: str | None) -> str:
    """张三 -> 张*, 张小明 -> 张*明, 欧阳小华 -> 欧**华."""
    if not name:
        return ""
    if len(name) == 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_card(number: str | None) -> str:
    """First 6 + ******** + last 4, whatever the length in between."""
    if not number:
        return ""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "********" + number[-4:]


def mask_phone(number: str | None) -> str:
    """First 3 + **** + last 4."""
    if not number:
        return ""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "****" + number[-4:]
