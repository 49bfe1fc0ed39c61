"""Certificate PDFs: A4, Simplified Chinese, a QR code to the public verification page.

Uses reportlab's built-in CID font STSong-Light, so no system font is needed
on the server (PDF readers supply the Song typeface themselves).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator
from typing import BinaryIO
from xml.sax.saxutils import escape

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph

FONT = "STSong-Light"
CERTIFICATE_HEADING = "网格员培训合格证书"
_RED = colors.HexColor("#9b1c1c")
_GOLD = colors.HexColor("#b8860b")
_INK = colors.HexColor("#1f1f1f")


@dataclasses.dataclass(frozen=True)
class CertificateData:
    """Everything printed on one certificate (plain values, no database objects)."""

    holder_name: str
    program_title: str
    number: str
    issued: dt.date
    expires: dt.date
    issuing_unit: str
    verify_url: str
    star: int | None = None


def chinese_date(day: dt.date) -> str:
    """2026-06-03 -> 2026年6月3日."""
    return f"{day.year}年{day.month}月{day.day}日"


def _ensure_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _border(c: canvas.Canvas, width: float, height: float) -> None:
    """Double frame with 回-style corner ornaments."""
    outer, inner = 22, 34
    c.setStrokeColor(_RED)
    c.setLineWidth(5)
    c.rect(outer, outer, width - 2 * outer, height - 2 * outer)
    c.setStrokeColor(_GOLD)
    c.setLineWidth(1.2)
    c.rect(inner, inner, width - 2 * inner, height - 2 * inner)
    c.setLineWidth(0.6)
    c.rect(inner + 4, inner + 4, width - 2 * inner - 8, height - 2 * inner - 8)
    # Corner ornaments: nested squares, each corner mirrored.
    size = 26
    for x, y, sx, sy in ((inner, inner, 1, 1), (width - inner, inner, -1, 1),
                         (inner, height - inner, 1, -1), (width - inner, height - inner, -1, -1)):
        c.setStrokeColor(_RED)
        c.setLineWidth(1.5)
        c.rect(x + sx * 8, y + sy * 8, sx * size, sy * size)
        c.setStrokeColor(_GOLD)
        c.setLineWidth(1)
        c.rect(x + sx * 14, y + sy * 14, sx * (size - 12), sy * (size - 12))
        c.setFillColor(_RED)
        c.rect(x + sx * 19, y + sy * 19, sx * (size - 22), sy * (size - 22), stroke=0, fill=1)
    # A thin rule under the heading area.
    c.setStrokeColor(_GOLD)
    c.setLineWidth(0.8)
    c.line(width / 2 - 150, height - 178, width / 2 + 150, height - 178)


def _fitting_size(text: str, size: float, max_width: float, smallest: float = 9) -> float:
    """The largest font size up to ``size`` at which ``text`` fits ``max_width``."""
    width = pdfmetrics.stringWidth(text, FONT, size)
    if width <= max_width:
        return size
    return max(smallest, size * max_width / width)


def _qr(c: canvas.Canvas, url: str, x: float, y: float, size: float) -> None:
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, c, x, y)


def _draw(c: canvas.Canvas, data: CertificateData) -> None:
    width, height = A4
    _border(c, width, height)
    centre = width / 2

    c.setFillColor(_RED)
    c.setFont(FONT, 34)
    c.drawCentredString(centre, height - 130, CERTIFICATE_HEADING)
    c.setFillColor(_INK)
    c.setFont(FONT, _fitting_size(data.program_title, 20, width - 130))
    c.drawCentredString(centre, height - 168, data.program_title)

    top = height - 215
    if data.star:
        c.setFillColor(_GOLD)
        c.setFont(FONT, 22)
        c.drawCentredString(centre, top, "★" * data.star + "☆" * (5 - data.star))
        top -= 30

    c.setFillColor(_INK)
    name_size = _fitting_size(data.holder_name, 30, width - 200)
    c.setFont(FONT, name_size)
    c.drawCentredString(centre, top - 50, data.holder_name)
    name_width = max(pdfmetrics.stringWidth(data.holder_name, FONT, name_size), 120)
    c.setStrokeColor(_INK)
    c.setLineWidth(0.8)
    c.line(centre - name_width / 2 - 20, top - 58, centre + name_width / 2 + 20, top - 58)

    # Two fixed lines read better than automatic wrapping, which may start a line with "，".
    first = f"经考核，该同志已达到「{data.program_title}」的各项认证要求，"
    lines_height = 0.0
    c.setFont(FONT, 15)
    if pdfmetrics.stringWidth(first, FONT, 15) <= width - 160:
        c.drawCentredString(centre, top - 120, first)
        lines_height = 26
    else:  # a very long program title: let reportlab wrap it
        body = ParagraphStyle("body", fontName=FONT, fontSize=15, leading=26, alignment=TA_CENTER,
                              wordWrap="CJK", textColor=_INK)
        paragraph = Paragraph(escape(first), body)
        _, lines_height = paragraph.wrap(width - 160, 300)
        paragraph.drawOn(c, 80, top - 120 - lines_height + 18)
    c.drawCentredString(centre, top - 120 - lines_height, "成绩合格，特发此证。")
    para_height = lines_height + 26

    rows = (("证书编号", data.number), ("发证日期", chinese_date(data.issued)),
            ("有效期至", chinese_date(data.expires)), ("发证单位", data.issuing_unit))
    y = top - 150 - para_height
    for label, value in rows:
        c.setFont(FONT, 13)
        c.setFillColor(colors.HexColor("#555555"))
        c.drawString(150, y, f"{label}：")
        c.setFont(FONT, _fitting_size(value, 15, width - 300))
        c.setFillColor(_INK)
        c.drawString(150 + 70, y, value)
        y -= 32

    # Bottom: QR code left, issuing unit (to be stamped) right.
    qr_size = 110
    _qr(c, data.verify_url, 80, 105, qr_size)
    c.setFont(FONT, 12)
    c.setFillColor(_INK)
    c.drawCentredString(80 + qr_size / 2, 90, "扫码核验")
    c.setFont(FONT, 7)
    c.setFillColor(colors.HexColor("#666666"))
    c.drawString(80, 74, data.verify_url)

    c.setFillColor(_INK)
    c.setFont(FONT, _fitting_size(data.issuing_unit, 15, width - 330))
    c.drawRightString(width - 90, 185, data.issuing_unit)
    c.setFont(FONT, 11)
    c.setFillColor(colors.HexColor("#666666"))
    c.drawRightString(width - 90, 165, "（盖章）")
    c.setFillColor(_INK)
    c.setFont(FONT, 13)
    c.drawRightString(width - 90, 140, chinese_date(data.issued))


def render_certificate_pdf(data: CertificateData) -> bytes:
    """One certificate as a one-page A4 PDF."""
    _ensure_font()
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    c.setTitle(f"{CERTIFICATE_HEADING} {data.number}")
    c.setSubject(data.program_title)
    c.setAuthor(data.issuing_unit)
    c.setCreator("网格学堂")
    _draw(c, data)
    c.showPage()
    c.save()
    return buffer.getvalue()


class _Sink(io.RawIOBase):
    """A write-only, unseekable buffer that the ZIP writer fills and the generator drains."""

    def __init__(self):
        super().__init__()
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def iter_many_zip(items: Iterable[CertificateData]) -> Iterator[bytes]:
    """The ZIP of render_many_zip as chunks, one PDF at a time, for a streamed response."""
    sink = _Sink()
    with sink:
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
            used: set[str] = set()
            for data in items:
                archive.writestr(_zip_info(data, used), render_certificate_pdf(data))
                if chunk := sink.drain():
                    yield chunk
        if tail := sink.drain():
            yield tail


def _zip_info(data: CertificateData, used: set[str]) -> zipfile.ZipInfo:
    name = f"{data.number}.pdf"
    n = 1
    while name in used:
        n += 1
        name = f"{data.number}-{n}.pdf"
    used.add(name)
    return zipfile.ZipInfo(name, date_time=(data.issued.year, data.issued.month, data.issued.day, 0, 0, 0))


def render_many_zip(items: Iterable[CertificateData], fileobj: BinaryIO) -> int:
    """Write one ``<number>.pdf`` per certificate into a ZIP on ``fileobj``; return the count.

    ``fileobj`` may be unseekable (a response stream): zipfile then writes data
    descriptors, and only one PDF is in memory at a time.
    """
    count = 0
    used: set[str] = set()
    # PDFs are compressed already; storing them keeps the CPU for rendering.
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED) as archive:
        for data in items:
            name = f"{data.number}.pdf"
            n = 1
            while name in used:
                n += 1
                name = f"{data.number}-{n}.pdf"
            used.add(name)
            info = zipfile.ZipInfo(name, date_time=(data.issued.year, data.issued.month, data.issued.day, 0, 0, 0))
            archive.writestr(info, render_certificate_pdf(data))
            count += 1
    return count
