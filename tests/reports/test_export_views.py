"""HR export routes: certificate XLSX/CSV/ZIP and team gaps — columns, masking, BOM, neutralising, scope, audit."""
from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import openpyxl
import pytest
import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.certification import services
from lms.extensions import db
from lms.points.services import award, set_point_rules
from lms.reports.exports import CERTIFICATE_COLUMNS
from tests.certification.factories import NOW, make_certificate, make_program
from tests.factories import make_org, make_user

ID1, ID2 = "330102199003071230", "330102200001014561"


@pytest.fixture
def data(tree):
    sg = make_program("WG-SG", "网格员上岗证")
    star = make_program("STAR-1", "一星级网格员", valid_months=12, star=1, position=1)
    set_point_rules({"lesson_complete": 7}, now=NOW)
    w1 = make_user("w1", "worker", tree["g1"], name="=HYPERLINK(\"x\")", id_card=ID1, phone="13812345678",
                   birth_date=dt.date(1990, 3, 7), education="本科")
    w2 = make_user("w2", "worker", tree["g2"], name="王五", id_card=ID2, phone="13900001111",
                   birth_date=dt.date(1970, 1, 1), education="高中")
    make_user("hr1", "hr", tree["t1"], name="人事一")
    make_user("hrc", "hr", tree["county"], name="县人事")
    make_user("hrp", ["hr", ("pii", tree["county"])], tree["county"], name="县人事（个人信息）")
    award(w1, "lesson_complete", reason="完成课时", source_type="lesson", source_id=1, now=NOW)
    c1 = make_certificate(w1, sg)
    make_certificate(w1, star)
    c2 = make_certificate(w2, sg)
    services.revoke_certificate(None, c2, "离岗", now=NOW)
    db.session.commit()
    return {"c1": c1, "c2": c2, "w1": w1, "w2": w2}


def _get(api, url):
    # buffered: the body streams inside the request's context, as a WSGI server iterates it
    # (the test client would otherwise read it later, from the test's own context).
    return api.get(url, buffered=True)


def _csv_rows(response):
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _xlsx_rows(response):
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    try:
        return [list(row) for row in book.active.iter_rows(values_only=True)]
    finally:
        book.close()


def test_csv_has_bom_exact_columns_masking_and_neutralising(api, data):
    api.login("hrc")
    response = _get(api, "/exports/certificates.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv_rows(response)
    assert tuple(rows[0]) == CERTIFICATE_COLUMNS
    by_number = {r[6]: r for r in rows[1:]}
    r1 = by_number[data["c1"].number]
    assert r1[0] == "'=HYPERLINK(\"x\")" and r1[1] == "w1"
    assert r1[2:5] == ["青石镇", "桃源村", "桃源村第一网格"]
    assert r1[5] == "网格员上岗证" and r1[7] == "2026-06-03" and r1[8] == "2029-06-02" and r1[9] == "有效"
    assert r1[10] == "7" and r1[11] == "1"
    assert r1[12] == "330102********1230" and r1[13] == "138****5678"
    assert by_number[data["c2"].number][9] == "已撤销"
    assert len(rows) == 4


def test_pii_role_sees_full_personal_data(api, data):
    api.login("hrp")
    rows = _csv_rows(_get(api, "/exports/certificates.csv?program=WG-SG&org=HX01"))
    assert len(rows) == 2 and rows[1][12] == ID1 and rows[1][13] == "13812345678"


def test_xlsx_route_reads_back_with_openpyxl(api, data):
    api.login("hrc")
    response = _get(api, "/exports/certificates.xlsx?status=valid")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    rows = _xlsx_rows(response)
    assert tuple(rows[0]) == CERTIFICATE_COLUMNS
    assert len(rows) == 3 and {r[9] for r in rows[1:]} == {"有效"}
    assert rows[1][0] == "'=HYPERLINK(\"x\")" and rows[1][12] == "330102********1230"


def test_filters_by_issue_dates(api, data):
    api.login("hrc")
    assert len(_csv_rows(_get(api, "/exports/certificates.csv?issued_from=2026-06-04"))) == 1
    assert len(_csv_rows(_get(api, "/exports/certificates.csv?issued_from=2026-06-01&issued_to=2026-06-03"))) == 4


def test_township_hr_exports_own_subtree_only(api, data):
    api.login("hr1")
    rows = _csv_rows(_get(api, "/exports/certificates.csv"))
    assert {r[1] for r in rows[1:]} == {"w1"}


@pytest.mark.parametrize("url", ["/exports/certificates.csv?org=HX02", "/exports/certificates.xlsx?org=HX02",
                                 "/exports/certificates.zip?org=HX02", "/exports/team-gaps.xlsx?org=HX02"])
def test_filters_outside_the_hr_scope_are_refused(api, data, url):
    api.login("hr1")
    assert _get(api, url).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action.like("export.%"))) == 0


@pytest.mark.parametrize("query, status", [
    ("org=NOPE", 404), ("program=NOPE", 422), ("status=maybe", 422), ("issued_from=2026-13-01", 422),
    ("issued_from=2026-06-05&issued_to=2026-06-01", 422), ("issued_to=" + "9" * 300, 422),
])
def test_bad_filters_are_clear_errors(api, data, query, status):
    api.login("hrc")
    response = _get(api, f"/exports/certificates.csv?{query}")
    assert response.status_code == status
    assert "<" in response.get_data(as_text=True)  # an HTML error page, not a half-written file


def test_workers_and_anonymous_cannot_export(client, api, data):
    assert client.get("/exports/certificates.csv", buffered=True).status_code in (302, 401)
    api.login("w1")
    assert _get(api, "/exports/certificates.csv").status_code == 403
    assert _get(api, "/exports/team-gaps.xlsx").status_code == 403


def test_every_export_is_audited_with_filter_and_row_count(api, data):
    api.login("hrc")
    _get(api, "/exports/certificates.csv?program=WG-SG&status=valid")
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "export.certificates"))
    assert entry.target == "certificates.csv" and entry.actor_name == "hrc"
    assert entry.details["program"] == "WG-SG" and entry.details["status"] == "valid" and entry.details["rows"] == 1


def test_zip_holds_one_pdf_per_certificate(api, data):
    api.login("hrc")
    response = _get(api, "/exports/certificates.zip?program=WG-SG")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = sorted(archive.namelist())
        assert names == sorted([f"{data['c1'].number}.pdf", f"{data['c2'].number}.pdf"])
        assert archive.read(names[0]).startswith(b"%PDF")
    assert db.session.scalar(sa.select(AuditEntry.details).where(AuditEntry.action == "export.certificates_pdf"))[
        "rows"] == 2


def test_team_gaps_lists_grids_without_a_young_graduate(api, data, tree):
    make_org("HX020102", "grid", tree["v2"], name="和平社区第二网格")
    api.login("hrc")
    response = _get(api, "/exports/team-gaps.xlsx")
    assert response.status_code == 200
    rows = _xlsx_rows(response)
    assert rows[0][:4] == ["乡镇(街道)", "村(社区)", "网格编码", "网格"]
    # g1 holds w1 (本科, born 1990-03-07): a gap only once w1 is 35 or older — decided from today.
    codes = {r[2] for r in rows[1:]}
    assert "HX020101" in codes and "HX020102" in codes  # w2 is 56 with 高中; the new grid is empty
    today = dt.date.today()
    w1_under_35 = (today.year - 1990 - ((today.month, today.day) < (3, 7))) < 35
    assert ("HX010101" in codes) != w1_under_35
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "export.team_gaps"))
    assert entry.details["rows"] == len(rows) - 1


def test_team_gaps_counts_a_young_graduate(api, tree, data):
    make_user("young", "worker", tree["g2"], name="小张", birth_date=dt.date.today().replace(year=dt.date.today().year - 25),
              education="大专")
    api.login("hrc")
    codes = {r[2] for r in _xlsx_rows(_get(api, "/exports/team-gaps.xlsx"))[1:]}
    assert "HX020101" not in codes


def test_streamed_csv_of_many_rows(api, tree, data):
    sg = make_program("BULK", "批量")
    for i in range(120):
        user = make_user(f"b{i:03d}", "worker", tree["g1"], name=f"-批量{i}")
        make_certificate(user, sg)
    api.login("hr1")
    response = _get(api, "/exports/certificates.csv?program=BULK")
    rows = _csv_rows(response)
    assert len(rows) == 121 and all(r[0].startswith("'-") for r in rows[1:])
