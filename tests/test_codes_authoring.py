"""Quiz codes, question ids and imported banks' codes are generated; the bank picker shows titles."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from lms.extensions import db
from lms.quizzes.formats.xlsx import build_template
from lms.quizzes.models import Bank, Question, Quiz
from tests.factories import make_user
from tests.quizzes.factories import make_bank, make_quiz
from tests.quizzes.test_authoring import _form, _login, _quiz_form


@pytest.fixture
def setup(tree):
    make_bank()
    make_quiz()
    make_user("tc", "trainer", tree["county"])
    make_user("t2", "trainer", tree["t2"])
    return tree


def _workbook(sheet_title: str) -> bytes:
    book = load_workbook(io.BytesIO(build_template()))
    book.worksheets[0].title = sheet_title
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_question_without_an_id_gets_the_banks_next_number(setup, client):
    token = _login(client, "tc")
    for expected in ("test-bank-1", "test-bank-2"):
        reply = client.post("/quizzes/banks/test-bank/questions/new",
                            data=_form(token, qid="", type="judge", answer="对", option_A="", option_B=""))
        assert reply.status_code == 302 and reply.headers["Location"].endswith(f"/quizzes/questions/{expected}/edit")
    chinese = client.post("/quizzes/banks/test-bank/questions/new",
                          data=_form(token, qid="第三题", type="judge", answer="错", option_A="", option_B=""))
    assert chinese.status_code == 302 and db.session.query(Question).filter_by(qid="test-bank-3").one().answer is False
    html = client.get("/quizzes/banks/test-bank/questions/new").get_data(as_text=True)
    assert "题目编号（可不填）" in html and 'name="qid" value="" required' not in html


def test_a_quiz_without_a_code_gets_one_from_its_title(setup, client):
    token = _login(client, "tc")
    reply = client.post("/quizzes/manage/new", data=_quiz_form(token, code="", title="县级统考"))
    assert reply.status_code == 302
    assert db.session.query(Quiz).filter_by(code="xjtk-1").one().title == "县级统考"
    typed = client.post("/quizzes/manage/new", data=_quiz_form(token, code="县级统考", title="另一场"))
    assert typed.status_code == 302 and db.session.query(Quiz).filter_by(code="xjtk-2").one().title == "另一场"
    refused = client.post("/quizzes/manage/new", data=_quiz_form(token, code="", title=""))
    assert refused.status_code == 422 and "请填写测验名称" in refused.get_data(as_text=True)


def test_an_excel_bank_is_named_by_its_sheet_and_coded_from_that_name(setup, client):
    token = _login(client, "t2")
    reply = client.post("/quizzes/banks", data={"csrf_token": token, "bank": "", "title": "",
                                                "file": (io.BytesIO(_workbook("冬季供暖政策")), "winter-heating.xlsx")},
                        content_type="multipart/form-data")
    assert reply.status_code == 200, reply.get_data(as_text=True)
    bank = db.session.query(Bank).filter_by(code="djgnzc-1").one()
    assert bank.title == "冬季供暖政策" and bank.org.code == "HX02"
    assert db.session.query(Question).filter_by(bank_id=bank.id).count() == 4
    page = client.get("/quizzes/banks").get_data(as_text=True)
    assert '<option value="djgnzc-1">冬季供暖政策（城关街道）</option>' in page
    assert "winter-heating" not in page


@pytest.mark.parametrize("sheet, filename, title, code", [
    ("题目", "冬季供暖.xlsx", "", "djgn-1"),                   # template's sheet name: the file's name
    ("题目", "winter-heating.xlsx", "供暖补贴题库", "gnbttk-1"),  # the typed name wins
])
def test_imported_bank_names_come_from_the_form_or_the_file(setup, client, sheet, filename, title, code):
    token = _login(client, "t2")
    reply = client.post("/quizzes/banks", data={"csrf_token": token, "title": title,
                                                "file": (io.BytesIO(_workbook(sheet)), filename)},
                        content_type="multipart/form-data")
    assert reply.status_code == 200
    assert db.session.query(Bank).filter_by(code=code).one().title == (title or filename.removesuffix(".xlsx"))


def test_an_ascii_named_file_with_an_unnamed_sheet_gets_a_dated_chinese_name(setup, client):
    token = _login(client, "t2")
    reply = client.post("/quizzes/banks", data={"csrf_token": token, "file": (io.BytesIO(_workbook("Sheet1")),
                                                                                "winter-heating.xlsx")},
                        content_type="multipart/form-data")
    assert reply.status_code == 200
    bank = db.session.query(Bank).filter(Bank.code != "test-bank").one()
    assert bank.title.startswith("导入的题库（") and "winter" not in bank.code


def test_bank_import_without_a_file_is_refused_in_chinese(setup, client):
    token = _login(client, "t2")
    reply = client.post("/quizzes/banks", data={"csrf_token": token, "bank": ""}, content_type="multipart/form-data")
    assert reply.status_code == 422 and "请选择要导入的文件" in reply.get_data(as_text=True)
    assert db.session.query(Bank).count() == 1


def test_file_banks_keep_their_codes(setup, client):
    token = _login(client, "tc")
    gift = "::a:: 补充题目 {=对 ~错}\n".encode()
    reply = client.post("/quizzes/banks", data={"csrf_token": token, "bank": "test-bank",
                                                "file": (io.BytesIO(gift), "x.gift")},
                        content_type="multipart/form-data")
    assert reply.status_code == 200
    bank = db.session.query(Bank).one()
    assert bank.code == "test-bank" and bank.title == "题库test-bank"
    assert db.session.query(Question).filter_by(bank_id=bank.id).count() == 5
