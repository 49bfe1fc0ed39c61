"""Certificate export routes: dates typed as dates in XLSX and ISO text in CSV, and "valid" past its last day shown
as expired, on SQLite (which returns dates as text) and PostgreSQL alike."""
from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
import sqlalchemy as sa

from lms.certification.models import Certificate
from lms.certification.queries import local_today
from lms.extensions import db
from tests.certification.factories import make_certificate, make_program
from tests.factories import make_user


@pytest.fixture
def data(tree):
    program = make_program("WG-SG", "网格员上岗证")
    current = make_certificate(make_user("w1", "worker", tree["g1"], name="张三"), program)
    lapsed = make_certificate(make_user("w2", "worker", tree["g2"], name="李四"), program)
    # Still marked valid, but its last day has passed: tasks run has not marked it yet.
    db.session.execute(sa.update(Certificate).where(Certificate.id == lapsed.id)
                       .values(expires_on=local_today() - dt.timedelta(days=1)))
    db.session.commit()
    make_user("hrc", "hr", tree["county"], name="县人事")
    return {"current": current.number, "lapsed": lapsed.number,
            "lapsed_end": local_today() - dt.timedelta(days=1)}


def test_csv_dates_are_iso_text_and_a_lapsed_valid_certificate_reads_expired(api, data):
    api.login("hrc")
    response = api.get("/exports/certificates.csv", buffered=True)
    rows = {r[6]: r for r in csv.reader(io.StringIO(response.data.decode("utf-8-sig")))}
    assert rows[data["current"]][7:10] == ["2026-06-03", "2029-06-02", "有效"]
    assert rows[data["lapsed"]][7:10] == ["2026-06-03", data["lapsed_end"].isoformat(), "已过期"]


def test_xlsx_dates_are_dates_and_a_lapsed_valid_certificate_reads_expired(api, data):
    api.login("hrc")
    response = api.get("/exports/certificates.xlsx", buffered=True)
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = {row[6].value: row for row in sheet.iter_rows(min_row=2)}
    current, lapsed = rows[data["current"]], rows[data["lapsed"]]
    assert [c.value for c in current[7:10]] == [dt.datetime(2026, 6, 3), dt.datetime(2029, 6, 2), "有效"]
    assert current[7].number_format == current[8].number_format == "yyyy-mm-dd"
    assert [c.value for c in lapsed[7:10]] == [dt.datetime(2026, 6, 3),
                                               dt.datetime.combine(data["lapsed_end"], dt.time()), "已过期"]
