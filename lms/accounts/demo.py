"""The demo county: org tree and one account per role, for trying the product."""
from __future__ import annotations

import datetime as dt

from lms.accounts.models import Role
from lms.accounts.queries import get_user
from lms.accounts.services import create_user
from lms.accounts.validation import id_card_check_digit
from lms.org.models import GridType, OrgKind
from lms.org.queries import get_org
from lms.org.services import create_org

DEMO_PASSWORD = "Demo@2026"

DEMO_ORGS = [
    # code, name, kind, parent, households, grid type
    ("HX", "红溪县", OrgKind.county, None, None, None),
    ("HX01", "青石镇", OrgKind.township, "HX", None, None),
    ("HX0101", "桃源村", OrgKind.village, "HX01", None, None),
    ("HX010101", "桃源村第一网格", OrgKind.grid, "HX0101", 286, GridType.rural),
    ("HX010102", "桃源村第二网格（山区）", OrgKind.grid, "HX0101", 143, GridType.mountain),
    ("HX0102", "石桥村", OrgKind.village, "HX01", None, None),
    ("HX010201", "石桥村网格", OrgKind.grid, "HX0102", 312, GridType.rural),
    ("HX02", "城关街道", OrgKind.township, "HX", None, None),
    ("HX0201", "和平社区", OrgKind.village, "HX02", None, None),
    ("HX020101", "和平社区第一网格", OrgKind.grid, "HX0201", 420, GridType.urban),
    ("HX020102", "和平社区第二网格", OrgKind.grid, "HX0201", 398, GridType.urban),
    ("HX0202", "南关社区", OrgKind.village, "HX02", None, None),
    ("HX020201", "南关社区网格", OrgKind.grid, "HX0202", 455, GridType.urban),
]

# username, name, org, roles (role, org code), birth, hired, education, what to try
DEMO_ACCOUNTS = [
    ("admin", "管理员", "HX", [("admin", "HX"), ("pii", "HX")], "1982-04-12", "2012-07-01", "本科", "系统管理、角色、组织；可见完整个人信息"),
    ("hr", "李红梅", "HX", [("hr", "HX")], "1985-09-03", "2014-03-01", "本科", "县综治中心：人员、证书、导出（个人信息脱敏）"),
    ("hr-qs", "周敏", "HX01", [("hr", "HX01")], "1990-02-17", "2016-05-01", "大专", "青石镇综治中心：只见本镇"),
    ("trainer-county", "王建国", "HX", [("trainer", "HX")], "1978-11-20", "2010-09-01", "本科", "县训课程、题库、考试"),
    ("trainer-qs", "陈晓燕", "HX01", [("trainer", "HX01")], "1988-06-08", "2015-08-01", "本科", "乡培课程（青石镇）"),
    ("trainer-ty", "刘志强", "HX0101", [("trainer", "HX0101")], "1983-01-25", "2013-04-01", "大专", "村练（桃源村）"),
    ("mentor", "赵德山", "HX010101", [("worker", "HX010101"), ("mentor", "HX01")], "1971-03-14", "2015-06-01", "高中", "老带新导师"),
    ("leader", "孙丽", "HX010101", [("worker", "HX010101"), ("grid_leader", "HX010101")], "1986-12-01", "2018-02-01", "大专", "网格长：本网格进度、重置密码"),
    ("worker", "张小明", "HX010101", [("worker", "HX010101")], "1998-07-19", "2026-03-01", "大专", "新网格员：学习、考试、演练"),
    ("worker2", "杨秀英", "HX010102", [("worker", "HX010102")], "1971-05-30", "2011-10-01", "初中", "山区网格员（大字模式）"),
    ("worker3", "吴海涛", "HX020101", [("worker", "HX020101")], "1992-10-11", "2020-07-01", "本科", "城区网格员"),
    ("worker4", "郑佳", "HX020201", [("worker", "HX020201")], "1995-08-22", "2022-09-01", "中专", "南关社区网格员"),
]


def _fake_id_card(birth: dt.date, serial: int) -> str:
    first17 = f"360121{birth:%Y%m%d}{serial:03d}"
    return first17 + id_card_check_digit(first17)


def ensure_demo(now=None) -> list[dict]:
    """Create whatever of the demo county is missing; return the accounts to print."""
    for code, name, kind, parent_code, households, grid_type in DEMO_ORGS:
        if get_org(code) is None:
            create_org(code, name, kind, get_org(parent_code) if parent_code else None, households, grid_type)
    printed = []
    for serial, (username, name, org_code, roles, birth, hired, education, note) in enumerate(DEMO_ACCOUNTS, 1):
        if get_user(username) is None:
            birth_date = dt.date.fromisoformat(birth)
            create_user(username=username, name=name, org=get_org(org_code),
                        roles=[(Role(r), get_org(o)) for r, o in roles], password=DEMO_PASSWORD,
                        must_change_password=False, id_card=_fake_id_card(birth_date, serial * 2 + 1),
                        phone=f"1380000{serial:04d}", birth_date=birth_date, education=education,
                        hired_on=dt.date.fromisoformat(hired), is_demo=True, now=now)
        printed.append({"username": username, "name": name, "org": org_code, "note": note})
    return printed
