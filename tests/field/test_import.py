"""field import: the grid platform's event export (CSV/XLSX), idempotent by 事件编号, each bad row reported."""
from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
import sqlalchemy as sa

from lms.audit.models import AuditEntry
from lms.db import SHANGHAI, utcnow
from lms.extensions import db
from lms.field.models import FieldEvent, FieldImport
from lms.field.services import import_bytes
from lms.tabular import TabularError
from tests.factories import make_user

HEADER = "事件编号,工号,上报时间,事件类型,结果,退回原因,满意度"


def export(*rows: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode(encoding)


def events() -> list[FieldEvent]:
    db.session.expire_all()
    return db.session.scalars(sa.select(FieldEvent).order_by(FieldEvent.number)).all()


@pytest.fixture
def workers(tree):
    return {"w1": make_user("w1", "worker", tree["g1"], name="张小明"),
            "w2": make_user("w2", "worker", tree["g2"], name="杨秀英")}


def test_good_rows_are_stored_with_the_worker_and_unit_at_import(app, workers, tree):
    report = import_bytes(export("SJ001,w1,2026-03-01 08:30,矛盾纠纷,办结,,5",
                                 "SJ002,w1,2026/3/2 9:05:07,环境卫生,退回,描述不清,",
                                 "SJ003,w2,2026-03-03,安全隐患,超时,,2",
                                 "SJ004,w2,2026-03-04 10:00,民生服务,重复,,"), "events.csv")
    db.session.commit()
    assert (report.added, report.unchanged, report.error_count, report.summary) == (4, 0, 0, "新增 4，未变 0，错误 0")
    first, second, third, fourth = events()
    assert (first.user_id, first.org_id, first.result, first.satisfaction) == (workers["w1"].id, tree["g1"].id, "办结", 5)
    # 上报时间 is Beijing time: 08:30 there is 00:30 UTC
    assert first.reported_at == dt.datetime(2026, 3, 1, 0, 30, tzinfo=dt.timezone.utc)
    assert (second.result, second.return_reason, second.satisfaction) == ("退回", "描述不清", None)
    assert second.reported_at.astimezone(SHANGHAI) == dt.datetime(2026, 3, 2, 9, 5, 7, tzinfo=SHANGHAI)
    assert (third.org_id, third.result, fourth.result) == (tree["g2"].id, "超时", "重复")
    run = db.session.scalar(sa.select(FieldImport))
    assert {e.import_id for e in events()} == {run.id} and run.result["added"] == 4
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "field.import"))
    assert entry.details["added"] == 4 and "新增 4" in entry.details["summary"]


def test_the_same_file_twice_changes_nothing(app, workers):
    data = export("SJ001,w1,2026-03-01 08:30,矛盾纠纷,办结,,5", "SJ002,w2,2026-03-02 08:30,环境卫生,退回,要素不全,")
    import_bytes(data, "events.csv")
    db.session.commit()
    again = import_bytes(data, "events.csv")
    db.session.commit()
    assert (again.added, again.unchanged, again.error_count) == (0, 2, 0)
    assert len(events()) == 2


def test_a_known_number_with_different_content_is_reported_and_the_first_kept(app, workers):
    import_bytes(export("SJ001,w1,2026-03-01 08:30,矛盾纠纷,办结,,5"), "a.csv")
    db.session.commit()
    report = import_bytes(export("SJ001,w1,2026-03-01 08:30,矛盾纠纷,退回,描述不清,",
                                 "SJ002,w1,2026-03-01 09:00,矛盾纠纷,办结,,4",
                                 "SJ002,w2,2026-03-01 09:00,矛盾纠纷,办结,,4",
                                 "SJ002,w1,2026-03-01 09:00,矛盾纠纷,办结,,4"), "b.csv")
    db.session.commit()
    assert (report.added, report.unchanged) == (1, 1)
    assert report.errors == [(2, "事件编号 SJ001 已导入过，内容不同（结果、退回原因、满意度）：保留先导入的记录"),
                             (4, "事件编号 SJ002 与第 3 行重复，内容不同（工号）：保留第 3 行")]
    stored = {e.number: e for e in events()}
    assert (stored["SJ001"].result, stored["SJ002"].user_id) == ("办结", db.session.scalar(
        sa.select(FieldEvent.user_id).where(FieldEvent.number == "SJ002")))
    assert stored["SJ002"].user_id == workers["w1"].id


def test_each_bad_row_is_reported_with_its_row_and_good_rows_are_kept(app, workers):
    future = (utcnow().astimezone(SHANGHAI) + dt.timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    report = import_bytes(export(
        "SJ001,w1,2026-03-01 08:30,矛盾纠纷,办结,,5",      # 2 good
        "SJ002,nobody,2026-03-01 08:30,矛盾纠纷,办结,,",    # 3 unknown 工号
        f"SJ003,w1,{future},矛盾纠纷,办结,,",               # 4 future
        "SJ004,w1,2026-03-01 08:30,矛盾纠纷,已办,,",         # 5 bad 结果
        "SJ005,w1,2026-03-01 08:30,矛盾纠纷,办结,,6",       # 6 bad 满意度
        "SJ006,w1,2026-03-01 08:30,矛盾纠纷,办结,,很好",     # 7 bad 满意度
        "SJ007,w1,2026-02-30 08:30,矛盾纠纷,办结,,",        # 8 impossible date
        "SJ008,w1,昨天,矛盾纠纷,办结,,",                     # 9 unreadable date
        ",w1,2026-03-01 08:30,矛盾纠纷,办结,,",             # 10 no number
        "SJ010,,2026-03-01 08:30,矛盾纠纷,办结,,",          # 11 no 工号
        "SJ011,w1,2026-03-01 08:30,,办结,,",               # 12 no 事件类型
        "SJ012,w1,2026-03-01 08:30,矛盾纠纷,退回,,",         # 13 returned without a reason
        "SJ013,nobody,2026-03-02 08:30,矛盾纠纷,办结,,",    # 14 unknown 工号 again
        "SJ014,w1,,矛盾纠纷,办结,,",                        # 15 no 上报时间
    ), "events.csv")
    db.session.commit()
    assert (report.added, report.error_count) == (1, 13)
    messages = dict(report.errors)
    assert messages[3] == "事件 SJ002：工号 nobody 不存在，未导入"
    assert messages[4].startswith("事件 SJ003：上报时间") and messages[4].endswith("在将来")
    assert messages[5] == "事件 SJ004：结果“已办”不对，应为办结、退回、超时、重复之一"
    assert messages[6] == "事件 SJ005：满意度“6”不对，应为 1 到 5 的整数或留空"
    assert "满意度“很好”不对" in messages[7]
    assert "上报时间“2026-02-30 08:30”无法识别" in messages[8] and "无法识别" in messages[9]
    assert messages[10] == "事件编号为空"
    assert messages[11] == "事件 SJ010：工号为空"
    assert messages[12] == "事件 SJ011：事件类型为空"
    assert messages[13] == "事件 SJ012：结果为退回，但退回原因为空"
    assert messages[15] == "事件 SJ014：上报时间为空"
    assert report.unknown == {"nobody": 2}
    assert [e.number for e in events()] == ["SJ001"]


@pytest.mark.parametrize("data, filename, message", [
    (export("SJ001,w1,2026-03-01,矛盾纠纷,办结", header="事件编号,工号,上报时间,事件类型"), "e.csv",
     "第 1 行表头缺少列：结果（应为：事件编号,工号,上报时间,事件类型,结果,退回原因,满意度）"),
    (export("SJ001,w1", header="编号,人员"), "e.csv", "第 1 行表头缺少列：事件编号、工号、上报时间、事件类型、结果"),
    (b"", "e.csv", "文件是空的：第 1 行应为表头"),
    (b"\xff\xfe\x00garbage\xff", "e.csv", "文件编码无法识别"),
    (b"PK\x03\x04 not really a workbook", "e.xlsx", "无法读取 XLSX 文件"),
    (b"whatever", "e.pdf", "不支持的文件类型“.pdf”"),
])
def test_a_wrong_file_is_refused_whole_with_nothing_written(app, workers, data, filename, message):
    with pytest.raises(TabularError) as caught:
        import_bytes(data, filename)
    db.session.rollback()
    assert caught.value.message.startswith(message)
    assert events() == [] and db.session.scalar(sa.select(sa.func.count()).select_from(FieldImport)) == 0


def test_gbk_csv_and_xlsx_are_read(app, workers):
    report = import_bytes(export("SJ001,w1,2026-03-01 08:30,矛盾纠纷,退回,描述不清,", encoding="gb18030"), "e.csv")
    assert report.added == 1
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(["SJ002", "w2", dt.datetime(2026, 3, 1, 8, 30), "安全隐患", "办结", None, 4])
    sheet.append([None] * 7)
    sheet.append(["SJ003", "w2", "2026-03-02", "安全隐患", "办结", None, 4.0])
    out = io.BytesIO()
    book.save(out)
    report = import_bytes(out.getvalue(), "e.xlsx")
    db.session.commit()
    assert (report.added, report.error_count) == (2, 0)
    stored = {e.number: e for e in events()}
    assert stored["SJ002"].reported_at == dt.datetime(2026, 3, 1, 0, 30, tzinfo=dt.timezone.utc)
    assert stored["SJ003"].satisfaction == 4


def test_cli_prints_the_summary_and_the_bad_rows(app, workers, runner, tmp_path):
    path = tmp_path / "events.csv"
    path.write_bytes(export("SJ001,w1,2026-03-01 08:30,矛盾纠纷,办结,,5", "SJ002,ghost,2026-03-01 08:30,矛盾纠纷,办结,,"))
    result = runner.invoke(args=["field", "import", str(path)])
    assert result.exit_code == 1
    assert "新增 1，未变 0，错误 1" in result.stdout
    assert "第 3 行：事件 SJ002：工号 ghost 不存在，未导入" in result.stderr
    assert "系统中没有的工号：ghost（1 行）" in result.stderr
    assert [e.number for e in events()] == ["SJ001"]  # the good row was kept
    again = runner.invoke(args=["field", "import", str(path)])
    assert "新增 0，未变 1，错误 1" in again.stdout
    wrong = tmp_path / "wrong.csv"
    wrong.write_bytes(export("x", header="编号"))
    refused = runner.invoke(args=["field", "import", str(wrong)])
    assert refused.exit_code == 1 and "错误：第 1 行表头缺少列" in refused.stderr
