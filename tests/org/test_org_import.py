"""org import: CSV/XLSX org lists, parents in any order, bad rows by number, subtree queries."""
from __future__ import annotations

import io

import openpyxl
import sqlalchemy as sa

from lms.extensions import db
from lms.org.models import GridType, OrgKind, OrgUnit
from lms.org.queries import get_org, list_subtree
from lms.org.services import import_orgs

HEADER = "编码,名称,类型,上级编码,户数,网格类型"


def org_csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def test_children_before_parents_and_chinese_kinds(app):
    report = import_orgs(org_csv("HX0101,桃源村,village,HX01,,",
                                 "HX01,青石镇,乡镇,HX,,",
                                 "HX,红溪县,county,,,",
                                 "HX010101,桃源村第一网格,grid,HX0101,286,农村"), "orgs.csv")
    db.session.commit()
    assert (report.created, report.errors) == (4, [])
    grid = get_org("HX010101")
    assert grid.kind == OrgKind.grid and grid.households == 286 and grid.grid_type == GridType.rural
    assert grid.path.startswith(get_org("HX01").path) and grid.depth == 3


def test_bad_rows_are_reported_and_good_rows_kept(app):
    report = import_orgs(org_csv(
        "HX,红溪县,county,,,",                 # 2 ok
        "HX01,,township,HX,,",                # 3 no name
        "HX02,城关街道,district,HX,,",          # 4 bad kind
        "HX03,东山镇,township,ZZ,,",           # 5 unknown parent
        "HX,又一个,county,,,",                  # 6 duplicate
        "HX04,西山镇,township,HX,很多,",         # 7 households
        "HX05,北山镇,township,HX,,海边",          # 8 grid type
        "G1,网格,grid,HX,10,rural",             # 9 ok (county → grid skips levels)
        "HX06,南山县,county,G1,,",               # 10 county under grid
        "H X,空格,township,HX,,",                # 11 bad code
    ), "orgs.csv")
    db.session.commit()
    errors = dict(report.errors)
    assert report.created == 2
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 10, 11]
    assert "名称为空" in errors[3] and "district" in errors[4] and "ZZ" in errors[5]
    assert "重复" in errors[6] and "整数" in errors[7] and "海边" in errors[8] and "不能位于" in errors[10]


def test_reimport_is_idempotent_and_moves_rewrite_the_subtree(app):
    data = org_csv("HX,红溪县,county,,,", "HX01,青石镇,township,HX,,", "HX02,城关街道,township,HX,,",
                   "V1,桃源村,village,HX01,,", "G1,一网格,grid,V1,100,rural")
    import_orgs(data, "o.csv")
    db.session.commit()
    again = import_orgs(data, "o.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    moved = import_orgs(org_csv("V1,桃源村,village,HX02,,"), "o.csv")
    db.session.commit()
    assert moved.updated == 1
    assert [u.code for u in list_subtree(get_org("HX02"))] == ["HX02", "V1", "G1"]
    assert list_subtree(get_org("HX01")) == [get_org("HX01")]
    assert get_org("G1").depth == 3


def test_cycle_is_refused(app):
    import_orgs(org_csv("HX,红溪县,county,,,", "T,镇,township,HX,,", "V,村,village,T,,"), "o.csv")
    db.session.commit()
    report = import_orgs(org_csv("T,镇,township,V,,"), "o.csv")
    assert report.errors and report.errors[0][0] == 2


def test_subtree_is_one_range_query_that_does_not_match_sibling_prefixes(app):
    # Ids 1 and 10 share the text prefix "/1": the range must stop at the '/' boundary.
    rows = ["HX,红溪县,county,,,"] + [f"T{i},镇{i},township,HX,," for i in range(1, 12)]
    rows += ["V1,村,village,T1,,", "V10,村,village,T10,,"]
    import_orgs(org_csv(*rows), "o.csv")
    db.session.commit()
    t1 = get_org("T1")
    assert [u.code for u in list_subtree(t1)] == ["T1", "V1"]
    statements = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    list_subtree(get_org("HX"))
    assert len([s for s in statements if "org_units" in s]) == 2  # get_org + the subtree itself


def test_xlsx_org_list(app):
    book = openpyxl.Workbook()
    book.active.append(HEADER.split(","))
    book.active.append(["HX", "红溪县", "county", None, None, None])
    book.active.append(["G", "网格", "grid", "HX", 12.0, "urban"])
    buffer = io.BytesIO()
    book.save(buffer)
    report = import_orgs(buffer.getvalue(), "orgs.xlsx")
    assert report.created == 2 and get_org("G").households == 12


def test_cli_reports_rows_and_exit_code(app, runner, tmp_path):
    path = tmp_path / "orgs.csv"
    path.write_bytes(org_csv("HX,红溪县,county,,,", "HX01,,township,HX,,"))
    result = runner.invoke(args=["org", "import", str(path)])
    assert result.exit_code == 1
    assert "新增 1" in result.output and "row 3: 名称为空" in result.stderr
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrgUnit)) == 1
