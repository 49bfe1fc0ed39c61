"""courses/certificate-templates.yaml: parsed with file:line errors, checked, imported, printed, previewed."""
from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from lms.certification import importer, present, templates
from lms.certification.models import Certificate, Program
from lms.certification.pdf import render_certificate_pdf
from lms.contentfile import ContentErrors
from lms.contentsync import SyncContext, SyncReport
from lms.extensions import db
from tests.certification.factories import make_certificate, make_program
from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 6, 3, tzinfo=dt.timezone.utc)
PATH = "courses/certificate-templates.yaml"
SHIPPED = {"WG-SG", "STAR-1", "STAR-2", "STAR-3", "STAR-4", "STAR-5"}


def _errors(text: str, known=SHIPPED) -> list[str]:
    with pytest.raises(ContentErrors) as caught:
        templates.parse_templates(text, PATH, known_programs=known)
    return [str(e) for e in caught.value.errors]


def test_the_shipped_file_covers_every_shipped_program():
    text = (ROOT / "courses" / templates.FILENAME).read_text(encoding="utf-8")
    parsed = templates.parse_templates(text, PATH, known_programs=SHIPPED)
    assert set(parsed) == SHIPPED
    assert all(t.issuer and t.seal_text and t.signatory and t.wording for t in parsed.values())
    assert "网格员" in parsed["WG-SG"].wording


def test_unknown_program_unknown_key_and_too_long_name_their_lines():
    text = ("WG-SG:\n"
            "  issuer: 红溪县委政法委\n"
            "  stamp: 公章\n"
            "NOPE:\n"
            "  issuer: 某县\n"
            "STAR-1:\n"
            f"  seal_text: {'长' * 25}\n"
            f"  wording: {'句' * 121}\n")
    errors = _errors(text)
    assert any(e.startswith(f"{PATH}:3:") and "未知的设置“stamp”" in e and "seal_text" in e for e in errors)
    assert any(e.startswith(f"{PATH}:4:") and "未知的认证项目“NOPE”" in e and "WG-SG" in e for e in errors)
    assert any(e.startswith(f"{PATH}:7:") and "印章文字" in e and "25 个字" in e and "最多 24" in e for e in errors)
    assert any(e.startswith(f"{PATH}:8:") and "证书正文" in e and "最多 120" in e for e in errors)
    assert len(errors) == 4


@pytest.mark.parametrize("text, line, words", [
    ("WG-SG: 红溪县\n", 1, "应逐行写"),
    ("WG-SG:\n  wording: 123\n", 2, "必须是文字"),
    ("WG-SG:\n  wording: ''\n", 2, "不能为空"),
    ("- WG-SG\n", 1, "映射"),
    ("WG-SG:\n  issuer: [未闭合\n", 3, "YAML 格式错误"),  # found where the list should have closed
])
def test_bad_shapes_are_refused_in_chinese_with_the_line(text, line, words):
    errors = _errors(text)
    assert errors[0].startswith(f"{PATH}:{line}:") and words in errors[0]


def test_optional_keys_may_be_blank_and_lines_are_joined():
    parsed = templates.parse_templates("WG-SG:\n  footer:\n  seal_text: ''\n  wording: >\n    经考核，\n    特发此证。\n",
                                       PATH, known_programs=None)
    assert parsed["WG-SG"].as_dict() == {"footer": "", "seal_text": "", "wording": "经考核， 特发此证。"}


def test_content_check_reports_the_templates_file(tmp_path):
    from lms.contentcheck import run_checks

    courses = tmp_path / "courses"
    courses.mkdir()
    shutil.copy(ROOT / "courses" / "certifications.yaml", courses / "certifications.yaml")
    (courses / templates.FILENAME).write_text("WG-SG:\n  signatory: 负责人\nSTAR-9:\n  issuer: 某县\n", encoding="utf-8")
    report = run_checks(courses, tmp_path / "question_bank", tree=[])
    found = [f for f in report.findings if f.path.endswith(templates.FILENAME)]
    assert [(f.line, f.blocking) for f in found] == [(3, True)] and "STAR-9" in found[0].reason
    (courses / templates.FILENAME).write_text("WG-SG:\n  signatory: 负责人\n", encoding="utf-8")
    assert not [f for f in run_checks(courses, tmp_path / "question_bank", tree=[]).findings
                if f.path.endswith(templates.FILENAME)]


def _import(courses_dir: Path) -> SyncReport:
    ctx = SyncContext(courses_dir, ROOT / "question_bank", NOW, known={})
    report = SyncReport()
    importer.import_templates(ctx, report)
    db.session.commit()
    return report


def test_content_import_stores_templates_and_a_bad_file_changes_nothing(app, tmp_path):
    for position, code in enumerate(sorted(SHIPPED)):
        make_program(code, f"项目{code}", position=position)
    shutil.copy(ROOT / "courses" / templates.FILENAME, tmp_path / templates.FILENAME)
    report = _import(tmp_path)
    assert report.errors == [] and report.counts["证书模板"]["updated"] == 6
    program = db.session.scalar(sa.select(Program).where(Program.code == "WG-SG"))
    assert program.template["issuer"] == "红溪县委政法委" and "上岗" in program.template["wording"]
    assert _import(tmp_path).counts["证书模板"]["unchanged"] == 6
    (tmp_path / templates.FILENAME).write_text("WG-SG:\n  wording: 新的正文。\n  colour: 红\n", encoding="utf-8")
    report = _import(tmp_path)
    assert [f"{e.path}:{e.line}" for e in report.errors] == [f"{tmp_path.name}/{templates.FILENAME}:3"]
    db.session.expire_all()
    assert "上岗" in db.session.scalar(sa.select(Program).where(Program.code == "WG-SG")).template["wording"]
    (tmp_path / templates.FILENAME).write_text("STAR-1:\n  wording: 一星正文。\n", encoding="utf-8")
    _import(tmp_path)
    db.session.expire_all()
    assert db.session.scalar(sa.select(Program).where(Program.code == "WG-SG")).template is None  # settings again


def test_the_importer_runs_after_the_programs():
    from lms.contentsync import _IMPORTERS
    order = {name: position for position, name, _ in _IMPORTERS}
    assert order["certifications"] < order["certificate_templates"]


def test_the_pdf_prints_the_template_and_settings_fill_the_rest(app, tree):
    app.config.update(CERTIFICATE_SIGNATORY="设置里的签发人", CERTIFICATE_FOOTER="设置里的页脚")
    program = make_program()
    program.template = {"issuer": "模板县委政法委", "wording": "经考核，该同志已能独立上报网格事件，特发此证。", "footer": ""}
    db.session.commit()
    holder = make_user("w001", "worker", tree["g1"], name="张小明")
    certificate = make_certificate(holder, program, seed=3)
    data = present.pdf_data(certificate, present.issuing_unit())
    assert (data.issuing_unit, data.signatory, data.footer) == ("模板县委政法委", "设置里的签发人", "")
    text = PdfReader(io.BytesIO(render_certificate_pdf(data))).pages[0].extract_text().replace("\n", "")
    assert "独立上报网格事件" in text and "模板县委政法委" in text and "设置里的签发人" in text
    assert "成绩合格" not in text and "设置里的页脚" not in text
    program.template = None
    db.session.commit()
    text = PdfReader(io.BytesIO(render_certificate_pdf(present.pdf_data(certificate, "默认单位")))).pages[0]\
        .extract_text().replace("\n", "")
    assert "成绩合格，特发此证" in text and "默认单位" in text and "设置里的页脚" in text


def test_a_long_wording_stays_one_a4_page_and_fully_printed(app, tree):
    program = make_program()
    program.template = {"wording": "经县网格化服务管理中心组织培训并考核，" * 6}
    db.session.commit()
    data = present.preview_data(program, "欧阳小明", today=dt.date(2026, 6, 3))
    reader = PdfReader(io.BytesIO(render_certificate_pdf(data)))
    assert len(reader.pages) == 1
    assert reader.pages[0].extract_text().replace("\n", "").count("组织培训并考核") == 6


# --- preview before issuing ----------------------------------------------------------------------------------

@pytest.fixture
def desk(tree):
    program = make_program()
    program.template = {"issuer": "模板县委政法委", "wording": "经考核，该同志已能独立上报网格事件，特发此证。"}
    db.session.commit()
    return {"program": program, "hr": make_user("hr1", "hr", tree["t1"], name="人事甲"),
            "in": make_user("w001", "worker", tree["g1"], name="张小明"),
            "out": make_user("w009", "worker", tree["g2"], name="外乡人")}


def _pdf_text(response) -> str:
    return PdfReader(io.BytesIO(response.get_data())).pages[0].extract_text().replace("\n", "")


def test_the_preview_pdf_shows_the_template_and_the_holder_marked_as_sample(client, api, desk):
    api.login("hr1")
    response = client.get("/certificates/preview.pdf?program=WG-SG&username=w001")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline")
    text = _pdf_text(response)
    assert "张小明" in text and "独立上报网格事件" in text and "模板县委政法委" in text and "样" in text
    assert "预览，非正式证书" in text
    sample = _pdf_text(client.get("/certificates/preview.pdf?program=WG-SG"))
    assert "张三" in sample
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0


def test_the_preview_respects_scope_and_bad_input(client, api, desk):
    api.login("hr1")
    assert client.get("/certificates/preview.pdf?program=WG-SG&username=w009").status_code == 403
    assert client.get("/certificates/preview.pdf?program=WG-SG&username=nobody").status_code == 404
    assert client.get("/certificates/preview.pdf?program=NOPE").status_code == 404
    api.login("w001")
    assert client.get("/certificates/preview.pdf?program=WG-SG").status_code == 403


def _csrf(client, path):
    import re
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_single_issue_previews_then_issues_on_confirm(client, api, desk):
    api.login("hr1")
    manage = client.get("/certificates/manage").get_data(as_text=True)
    assert 'action="/certificates/issue/preview"' in manage and "预览证书样张" in manage
    token = _csrf(client, "/certificates/manage")
    page = client.post("/certificates/issue/preview", data={"csrf_token": token, "username": "w001",
                                                            "program": "WG-SG", "reason": "补发：原件遗失"})
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "确认发证" in body and "/certificates/preview.pdf?program=WG-SG&amp;username=w001" in body
    assert 'action="/certificates/issue"' in body and 'value="补发：原件遗失"' in body
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0  # nothing issued by the preview
    token = _csrf(client, "/certificates/manage")
    done = client.post("/certificates/issue", data={"csrf_token": token, "username": "w001", "program": "WG-SG",
                                                    "reason": "补发：原件遗失"})
    assert done.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 1


def test_single_preview_refuses_bad_input_without_writing(client, api, desk):
    api.login("hr1")
    token = _csrf(client, "/certificates/manage")
    assert client.post("/certificates/issue/preview", data={"csrf_token": token, "username": "w009",
                                                            "program": "WG-SG", "reason": "x"}).status_code == 403
    missing = client.post("/certificates/issue/preview", data={"csrf_token": token, "username": "w001",
                                                               "program": "WG-SG", "reason": ""})
    assert missing.status_code == 422 and "请填写发证理由" in missing.get_data(as_text=True)
    assert client.post("/certificates/issue/preview", data={"username": "w001", "program": "WG-SG",
                                                            "reason": "x"}).status_code in (400, 422)  # no CSRF
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0


def test_batch_previews_with_the_first_person_in_scope_then_confirms(client, api, desk):
    api.login("hr1")
    first = client.get("/certificates/batch").get_data(as_text=True)
    assert "预览证书样张" in first and "确认批量发证" not in first  # no confirm before a preview
    token = _csrf(client, "/certificates/batch")
    form = {"csrf_token": token, "program": "WG-SG", "usernames": "w009\nw001", "reason": "集中培训合格"}
    page = client.post("/certificates/batch/preview", data=form)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "确认批量发证" in body
    assert "持证人 张小明" in body and "username=w001" in body  # w009 is outside hr1's scope: not shown
    assert "集中培训合格" in body and "w009" in body  # the list and reason are kept for the confirm
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0
    bad = client.post("/certificates/batch/preview", data={**form, "program": "NOPE"})
    assert bad.status_code == 422 and "NOPE" in bad.get_data(as_text=True)
    empty = client.post("/certificates/batch/preview", data={**form, "usernames": " \n"})
    assert empty.status_code == 422 and "请至少填写一个工号" in empty.get_data(as_text=True)
    done = client.post("/certificates/batch", data=form)
    assert done.status_code == 200 and "已发 1 人" in done.get_data(as_text=True)


def test_batch_listing_shows_the_preview_for_the_program(client, api, desk):
    api.login("hr1")
    body = client.get("/certificates/batch?program=WG-SG").get_data(as_text=True)
    assert "证书样张" in body and "/certificates/preview.pdf?program=WG-SG" in body
