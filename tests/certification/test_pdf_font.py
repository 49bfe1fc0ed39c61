"""The certificate PDF embeds its Chinese font (pdffonts: emb yes), renders, and prints the county's settings."""
from __future__ import annotations

import datetime as dt
import io
import logging
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from lms.certification import pdf
from lms.certification.pdf import CertificateData, render_certificate_pdf
from tests.certification.factories import make_certificate, make_program
from tests.factories import make_user

DATA = CertificateData(holder_name="张小明", program_title="网格员上岗证", number="WG-SG-2026-000001",
                       issued=dt.date(2026, 6, 3), expires=dt.date(2029, 6, 2), issuing_unit="红溪县网格化服务管理中心",
                       verify_url="https://lms.hx.gov.cn/verify/ABCD-EFGH-JKMN-PQRS-TVWX", star=2,
                       verify_code="ABCD-EFGH-JKMN-PQRS-TVWX", seal_text="红溪县委政法委员会", signatory="负责人：王建国",
                       footer="咨询电话 0571-12345678")
needs_poppler = pytest.mark.skipif(not shutil.which("pdffonts") or not shutil.which("pdftoppm"),
                                   reason="poppler-utils not installed (scripts/system-deps.sh installs it)")


def _fonts(body: bytes) -> list[dict]:
    reader = PdfReader(io.BytesIO(body))
    fonts = []
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        descendants = font.get("/DescendantFonts")
        descriptor = (descendants[0].get_object() if descendants else font).get("/FontDescriptor")
        fonts.append({"name": str(font["/BaseFont"]), "descriptor": descriptor.get_object() if descriptor else {}})
    return fonts


def test_the_vendored_font_is_small_and_covers_its_characters():
    assert pdf.VENDORED_FONT.is_file() and pdf.VENDORED_FONT.stat().st_size < 2_000_000
    name, covered = pdf._truetype(str(pdf.VENDORED_FONT))
    assert {ord(c) for c in pdf.subset_characters()} <= covered
    assert (pdf.VENDORED_FONT.parent / "wqy-microhei-COPYRIGHT.txt").is_file()


def test_every_font_is_embedded_and_the_text_extracts():
    body = render_certificate_pdf(DATA)
    fonts = _fonts(body)
    assert fonts and all("/FontFile2" in f["descriptor"] for f in fonts), fonts
    text = PdfReader(io.BytesIO(body)).pages[0].extract_text()
    for printed in ("张小明", "网格员上岗证", "WG-SG-2026-000001", "红溪县网格化服务管理中心", "ABCD-EFGH-JKMN-PQRS-TVWX",
                    "负责人：王建国", "咨询电话", "核验码"):
        assert printed in text, printed


@needs_poppler
def test_pdffonts_says_embedded_and_pdftoppm_renders(tmp_path):
    path = tmp_path / "c.pdf"
    path.write_bytes(render_certificate_pdf(DATA))
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = listing.splitlines()[2:]
    assert rows and all(row.split()[-5] == "yes" for row in rows), listing  # columns: … emb sub uni object ID
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-singlefile", str(path), str(tmp_path / "page")], check=True,
                   capture_output=True)
    png = (tmp_path / "page.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5_000


def test_a_rare_character_uses_the_full_system_font_when_present():
    rare = CertificateData(**{**DATA.__dict__, "holder_name": "王堃喆"})
    if pdf._truetype(pdf.SYSTEM_FONTS[0]) is None:
        pytest.skip("fonts-wqy-microhei not installed")
    fonts = _fonts(render_certificate_pdf(rare))
    assert all("/FontFile2" in f["descriptor"] for f in fonts)
    assert "王堃喆" in PdfReader(io.BytesIO(render_certificate_pdf(rare))).pages[0].extract_text()


def test_without_any_font_file_it_falls_back_to_stsong_with_a_warning(monkeypatch, caplog, tmp_path):
    monkeypatch.setattr(pdf, "VENDORED_FONT", tmp_path / "missing.ttf")
    monkeypatch.setattr(pdf, "SYSTEM_FONTS", ())
    with caplog.at_level(logging.WARNING, logger="lms.certification.pdf"):
        body = render_certificate_pdf(DATA)
    assert "STSong-Light" in caplog.text
    assert any("STSong-Light" in f["name"] for f in _fonts(body))


def test_a_configured_font_file_is_tried_first(tmp_path):
    copy = tmp_path / "county.ttf"
    copy.write_bytes(pdf.VENDORED_FONT.read_bytes())
    assert pdf.font_for(["张小明"], str(copy)) == pdf._truetype(str(copy))[0]
    assert pdf.font_for(["张小明"], str(tmp_path / "nope.ttf")) == pdf._truetype(str(pdf.VENDORED_FONT))[0]


@pytest.mark.parametrize("app_config", [{"CERTIFICATE_SEAL_TEXT": "红溪县委政法委员会", "CERTIFICATE_FOOTER": "咨询电话 12345",
                                         "CERTIFICATE_SIGNATORY": "负责人：王建国"}])
def test_the_county_settings_and_the_public_url_reach_the_pdf(api, tree, app_config):
    holder = make_user("w001", "worker", tree["g1"], name="张小明")
    certificate = make_certificate(holder, make_program(), seed=9)
    api.login("w001")
    body = api.get(f"/api/v1/certificates/{certificate.number}.pdf").get_data()
    text = PdfReader(io.BytesIO(body)).pages[0].extract_text()
    assert "咨询电话 12345" in text and "负责人：王建国" in text and "红" in text
    assert f"http://lms.test/verify/{certificate.verify_code}" in text and certificate.verify_code in text
    assert all("/FontFile2" in f["descriptor"] for f in _fonts(body))


def test_the_qr_carries_the_verify_url_on_the_public_url(app, tree):
    # The QR widget draws modules; the URL it encodes is the one printed beside it (same value, one source).
    from lms.certification import present
    holder = make_user("w001", "worker", tree["g1"], name="张小明")
    certificate = make_certificate(holder, make_program(), seed=9)
    data = present.pdf_data(certificate, "红溪县")
    assert data.verify_url == f"http://lms.test/verify/{certificate.verify_code}"
    assert Path(pdf.__file__).read_text().count("_qr(c, data.verify_url") == 1
