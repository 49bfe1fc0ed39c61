"""The printable sign-in sheet: the roll's names in the PDF's text, the font embedded, pages numbered, phones
masked unless pii, rendered by pdftoppm; only the session's trainers print it."""
from __future__ import annotations

import io
import shutil
import subprocess

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from lms.audit.models import AuditEntry
from lms.extensions import db
from tests.factories import make_user
from tests.trainings.factories import attend, make_training

needs_poppler = pytest.mark.skipif(not shutil.which("pdftoppm") or not shutil.which("pdffonts"),
                                   reason="poppler-utils (pdftoppm, pdffonts) not installed")


@pytest.fixture
def session(people, tree):
    return make_training(tree["t1"], people["tt"], title="人民调解实务", place="青石镇综治中心")


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _sheet(api, training, username="tt01"):
    api.login(username)
    response = api.client.get(f"/trainings/{training.id}/sheet.pdf")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Content-Type"] == "application/pdf"
    return response.data


def test_the_sheet_lists_the_roll_with_masked_phones_and_who_already_signed(api, people, session, tree):
    people["w1"].phone = "13812345678"
    db.session.commit()
    attend(session, people["w2"])
    pdf = _sheet(api, session)
    text = _text(pdf)
    assert "红溪县线下培训签到表" in text and "人民调解实务" in text and "青石镇综治中心" in text
    assert "镇培训师" in text and "本人签名" in text
    assert "张小明" in text and "李四" in text and "王五" not in text  # 王五 is in the other township
    assert "138****5678" in text and "13812345678" not in text
    assert "已签到" in text
    assert "第 1 页，共 1 页" in text
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "export.training_sheet"))
    assert entry.actor_name == "tt01" and entry.details["rows"] == 4  # the roll: tt01, vt01, w001, w002


def test_a_trainer_holding_pii_sees_the_full_phone(api, people, session, tree):
    people["w1"].phone = "13812345678"
    db.session.commit()
    make_user("ttp", ["trainer", ("pii", tree["t1"])], tree["t1"], name="持证培训师")
    assert "13812345678" in _text(_sheet(api, session, "ttp"))


@needs_poppler
def test_a_long_roll_runs_over_numbered_pages_with_the_font_embedded(api, people, session, tree, tmp_path):
    for n in range(60):
        make_user(f"r{n:03d}", "worker", tree["g1"], name=f"网格员{n:02d}号")
    pdf = _sheet(api, session)
    reader = PdfReader(io.BytesIO(pdf))
    pages = len(reader.pages)
    assert pages >= 3
    text = _text(pdf)
    assert f"第 {pages} 页，共 {pages} 页" in text
    assert all(f"网格员{n:02d}号" in text for n in range(60))
    # the header row repeats on every page
    assert all("本人签名" in page.extract_text() for page in reader.pages)
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows, fonts
    assert all(row.split()[-5] == "yes" for row in rows), fonts  # the emb column: every font embedded
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True)
    rendered = sorted(tmp_path.glob("page-*.png"))
    assert len(rendered) == pages and all(p.stat().st_size > 2000 for p in rendered)


def test_only_the_session_s_trainers_print_the_sheet(api, people, session, tree):
    for username in ("tt02", "w001", "vt01"):  # another township's trainer, an attendee, a village trainer
        api.login(username)
        assert api.client.get(f"/trainings/{session.id}/sheet.pdf").status_code == 403, username
    api.login("tt01")
    assert api.client.get("/trainings/999999/sheet.pdf").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "export.training_sheet")) == 0


def test_names_that_look_like_markup_print_as_written(api, people, session, tree):
    make_user("odd", "worker", tree["g1"], name="<b>李&amp;</b>")
    assert "<b>李&amp;</b>" in _text(_sheet(api, session)).replace("\n", "")
