"""Exports: full-width formula starts and the audit of unmasked personal data (issue 13, item 14).

| tries | expected |
| --- | --- |
| a name starting with full-width ``＝`` / ``＋`` / ``－`` / ``＠`` (a Chinese IME types them) in the certificate CSV and XLSX | the cell starts with ``'``, like ASCII ``=`` |
| ``neutralise`` (every export's rule) on ``＝HYPERLINK(…)``, ``＋1``, ``－1``, ``＠SUM(…)`` | prefixed with ``'``; ``a＝b`` left alone |
| an export by HR without ``pii`` | the audit entry says ``pii_unmasked: false`` ("否") |
| an export by HR holding ``pii`` over the exported holders | the audit entry says ``pii_unmasked: true`` and the audit page shows it in Chinese |
| an export by an HR holding ``pii`` only over units outside the filter | ``pii_unmasked: false`` |
"""
from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.extensions import db
from lms.reports.exports import neutralise
from tests.certification.factories import make_certificate, make_program
from tests.factories import make_user

FULL_WIDTH = ["＝HYPERLINK(\"http://x\",\"点我\")", "＋1", "－1", "＠SUM(A1)"]


@pytest.fixture
def data(tree):
    program = make_program("WG-SG", "网格员上岗证")
    for n, name in enumerate(FULL_WIDTH, start=1):
        make_certificate(make_user(f"w{n}", "worker", tree["g1"], name=name, id_card="330102199003071230",
                                   phone="13812345678"), program)
    make_certificate(make_user("w9", "worker", tree["g2"], name="王五", phone="13900001111"), program)
    make_user("hrc", "hr", tree["county"], name="县人事")
    make_user("hrp", ["hr", ("pii", tree["county"])], tree["county"], name="县人事（个人信息）")
    make_user("hrx", ["hr", ("pii", tree["t2"])], tree["county"], name="县人事（城关个人信息）")
    db.session.commit()
    return tree


def _get(api, url):
    return api.get(url, buffered=True)


@pytest.mark.parametrize("value", FULL_WIDTH)
def test_neutralise_prefixes_full_width_formula_starts(value):
    assert neutralise(value) == "'" + value
    assert neutralise("a＝b") == "a＝b"


def test_full_width_formula_starts_are_neutralised_in_csv_and_xlsx(api, data):
    api.login("hrc")
    text = _get(api, "/exports/certificates.csv").data.decode("utf-8")
    names = {row[0] for row in csv.reader(io.StringIO(text[1:]))}
    assert {"'" + name for name in FULL_WIDTH} <= names
    book = openpyxl.load_workbook(io.BytesIO(_get(api, "/exports/certificates.xlsx").data), read_only=True)
    try:
        cells = {row[0] for row in book.active.iter_rows(values_only=True)}
    finally:
        book.close()
    assert {"'" + name for name in FULL_WIDTH} <= cells


def _last_export_entry() -> AuditEntry:
    return db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "export.certificates")
                             .order_by(AuditEntry.id.desc()))


@pytest.mark.parametrize("who, query, unmasked", [
    ("hrc", "", False),
    ("hrp", "", True),
    ("hrx", "?org=HX01", False),
    ("hrx", "", True),
])
def test_the_export_audit_says_whether_personal_data_went_out_unmasked(api, data, who, query, unmasked):
    api.login(who)
    for suffix in ("csv", "xlsx"):
        assert _get(api, f"/exports/certificates.{suffix}{query}").status_code == 200
        entry = _last_export_entry()
        assert entry.target == f"certificates.{suffix}"
        assert entry.details["pii_unmasked"] is unmasked


def test_the_audit_page_shows_it_in_chinese(api, client, data, tree):
    make_user("adm", "admin", tree["county"], name="管理员")
    api.login("hrp")
    _get(api, "/exports/certificates.csv")
    api.login("adm")
    page = client.get("/audit").get_data(as_text=True)
    assert "身份证号和手机号未脱敏 是" in page
