"""Certificate PDF: A4, Chinese text extractable, QR caption; ZIP of many."""
from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from pypdf import PdfReader

from lms.certification.pdf import CertificateData, chinese_date, render_certificate_pdf, render_many_zip

A4_POINTS = (595.28, 841.89)


def make(**changes) -> CertificateData:
    values = dict(
        holder_name="欧阳小华",
        program_title="三星级网格员",
        number="STAR-3-2026-000123",
        issued=dt.date(2026, 6, 3),
        expires=dt.date(2027, 6, 2),
        issuing_unit="红溪县综治中心",
        verify_url="https://lms.hx.example/verify/AbCdEfGhIjKlMnOpQrStUv",
        star=3,
    )
    values.update(changes)
    return CertificateData(**values)


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def test_chinese_date_drops_leading_zeros():
    assert chinese_date(dt.date(2026, 6, 3)) == "2026年6月3日"
    assert chinese_date(dt.date(2029, 12, 31)) == "2029年12月31日"


def test_certificate_is_one_a4_page():
    reader = PdfReader(io.BytesIO(render_certificate_pdf(make())))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 2), round(float(box.height), 2)) == A4_POINTS


def test_certificate_text_holds_holder_number_dates_unit_and_qr_caption():
    text = text_of(render_certificate_pdf(make()))
    for expected in ("网格员培训合格证书", "三星级网格员", "欧阳小华", "STAR-3-2026-000123", "2026年6月3日",
                     "2027年6月2日", "红溪县综治中心", "扫码核验", "https://lms.hx.example/verify/AbCdEfGhIjKlMnOpQrStUv",
                     "★★★☆☆"):
        assert expected in text


def test_certificate_without_star_shows_no_star_row():
    text = text_of(render_certificate_pdf(make(program_title="网格员上岗证", star=None)))
    assert "网格员上岗证" in text
    assert "★" not in text and "☆" not in text


def test_markup_in_names_is_printed_literally():
    text = text_of(render_certificate_pdf(make(holder_name="<b>张&三</b>", program_title="<i>超长" * 12)))
    assert "<b>张&三</b>" in text


def test_pdf_metadata_names_the_certificate():
    reader = PdfReader(io.BytesIO(render_certificate_pdf(make())))
    assert reader.metadata.title == "网格员培训合格证书 STAR-3-2026-000123"
    assert reader.metadata.author == "红溪县综治中心"


class _WriteOnly(io.RawIOBase):
    """A response-like stream: write only, no seek or tell."""

    def __init__(self):
        self.buffer = bytearray()

    def writable(self):
        return True

    def write(self, data):
        self.buffer.extend(data)
        return len(data)


def test_zip_holds_one_readable_pdf_per_certificate_on_an_unseekable_stream():
    items = [make(number=f"WG-SG-2026-{n:06d}", holder_name=name)
             for n, name in ((1, "张三"), (2, "李小红"), (1, "王五"))]
    stream = _WriteOnly()
    assert render_many_zip(iter(items), stream) == 3
    with zipfile.ZipFile(io.BytesIO(bytes(stream.buffer))) as archive:
        assert archive.namelist() == ["WG-SG-2026-000001.pdf", "WG-SG-2026-000002.pdf", "WG-SG-2026-000001-2.pdf"]
        assert archive.testzip() is None
        assert "李小红" in text_of(archive.read("WG-SG-2026-000002.pdf"))
        assert "王五" in text_of(archive.read("WG-SG-2026-000001-2.pdf"))


def test_zip_of_nothing_is_an_empty_archive():
    buffer = io.BytesIO()
    assert render_many_zip([], buffer) == 0
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        assert archive.namelist() == []


@pytest.mark.parametrize("star", [1, 5])
def test_star_count_matches_level(star):
    text = text_of(render_certificate_pdf(make(star=star)))
    assert "★" * star + "☆" * (5 - star) in text
