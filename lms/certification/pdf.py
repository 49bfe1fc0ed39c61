"""Certificate PDFs: A4, Simplified Chinese, a QR code to the public verification page.

The Chinese font is embedded (a subset per PDF, by reportlab), so a phone or printer without Chinese
fonts shows the same page: WenQuanYi Micro Hei cut to GB2312 is vendored in lms/static/fonts (Apache-2.0;
`make font` refreshes it); a name with a rarer character uses the full font when the server has it
(Debian fonts-wqy-microhei), or LMS_CERTIFICATE_FONT (``path`` or ``path#index`` for a .ttc). Only when
none covers the text does the page fall back to reportlab's CID font STSong-Light (not embedded: the
reader supplies it), with a logged warning.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import io
import logging
import math
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Group, Rect
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFStream, PDFString
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph

log = logging.getLogger(__name__)

#: the CID fallback (not embedded); lms.records.pdf prints with it too
FONT = "STSong-Light"
VENDORED_FONT = Path(__file__).resolve().parent.parent / "static" / "fonts" / "wqy-microhei-gb2312.ttf"
SYSTEM_FONTS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc#0",)
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
    #: the code printed under the QR, grouped for reading aloud
    verify_code: str = ""
    #: the county's seal text (an electronic seal ring); empty: a blank "（盖章）" for a stamp
    seal_text: str = ""
    #: a signatory line, e.g. "负责人：王建国"
    signatory: str = ""
    #: a last line, e.g. a hotline or the verification page
    footer: str = ""
    #: the certificate's sentence (certificate-templates.yaml); empty: the built-in two lines
    wording: str = ""
    #: a preview for HR: 样张 across the page, never a certificate
    sample: bool = False
    #: LMS_CERTIFICATE_FONT: a TrueType file (``path`` or ``path#index``) tried before the vendored one
    font_file: str = ""


def chinese_date(day: dt.date) -> str:
    """2026-06-03 -> 2026年6月3日."""
    return f"{day.year}年{day.month}月{day.day}日"


def _ensure_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


@functools.cache
def subset_characters() -> str:
    """The characters of the vendored font: GB2312 (its 6,763 hanzi), ASCII and the marks certificates print."""
    chars = {chr(c) for c in range(0x20, 0x7F)}
    for first in range(0xA1, 0xF8):
        for second in range(0xA1, 0xFF):
            try:
                chars.add(bytes((first, second)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    chars.update("★☆「」『』《》（）：；，。、“”‘’·—…●○■□◆◇※〇")
    return "".join(sorted(chars))


@functools.lru_cache(maxsize=16)
def _truetype(spec: str) -> tuple[str, frozenset[int]] | None:
    """Register the TrueType font ``path[#index]`` once: (font name, code points it covers), or None."""
    path, _, index = spec.partition("#")
    if not Path(path).is_file():
        return None
    try:
        font = TTFont(f"LMSCertFont{len(_registered)}", path, subfontIndex=int(index or 0))
    except (TTFError, OSError, ValueError) as exc:
        log.warning("certificate font %s cannot be used: %s", spec, exc)
        return None
    if any(font.face.name == other for other in _face_names):
        # reportlab shares one font per face name: the full font and its GB2312 cut would merge.
        font.face.name += b"-%d" % len(_registered)
    _face_names.append(font.face.name)
    pdfmetrics.registerFont(font)
    _registered.append(spec)
    return font.fontName, frozenset(font.face.charToGlyph)


_registered: list[str] = []
_face_names: list[bytes] = []


def font_for(texts, configured: str | None = None) -> str:
    """The first embeddable font covering every character of ``texts``; STSong-Light (logged) when none does."""
    needed = {ord(c) for text in texts for c in text if not c.isspace()}
    for spec in ([configured] if configured else []) + [str(VENDORED_FONT), *SYSTEM_FONTS]:
        found = _truetype(spec)
        if found and needed <= found[1]:
            return found[0]
    missing = "".join(sorted({chr(c) for c in needed} - set(subset_characters())))[:20]
    log.warning("no certificate font covers %r (vendored font missing or a rare character): using STSong-Light, "
                "not embedded; install fonts-wqy-microhei or set LMS_CERTIFICATE_FONT", missing)
    _ensure_font()
    return FONT


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


def _fitting_size(text: str, size: float, max_width: float, smallest: float = 9, font: str = FONT) -> float:
    """The largest font size up to ``size`` at which ``text`` fits ``max_width``."""
    width = pdfmetrics.stringWidth(text, font, size)
    if width <= max_width:
        return size
    return max(smallest, size * max_width / width)


def _qr(c: canvas.Canvas, url: str, x: float, y: float, size: float) -> None:
    """The QR code's modules as filled rectangles straight on the canvas.

    renderPDF would set the graphics default font (Times-Roman, never embedded) even though a QR
    code has no text, and pdffonts would list an unembedded font.
    """
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    c.saveState()
    c.translate(x, y)
    c.scale(size / (x1 - x0), size / (y1 - y0))
    c.translate(-x0, -y0)
    _fill_rects(c, widget.draw())
    c.restoreState()


def _fill_rects(c: canvas.Canvas, node) -> None:
    if isinstance(node, Group):
        for child in node.getContents():
            _fill_rects(c, child)
    elif isinstance(node, Rect) and node.fillColor is not None:
        c.setFillColor(node.fillColor)
        c.rect(node.x, node.y, node.width, node.height, stroke=0, fill=1)


def _draw(c: canvas.Canvas, data: CertificateData, font: str) -> None:
    width, height = A4
    _border(c, width, height)
    centre = width / 2

    c.setFillColor(_RED)
    c.setFont(font, 34)
    c.drawCentredString(centre, height - 130, CERTIFICATE_HEADING)
    c.setFillColor(_INK)
    c.setFont(font, _fitting_size(data.program_title, 20, width - 130, font=font))
    c.drawCentredString(centre, height - 168, data.program_title)

    top = height - 215
    if data.star:
        c.setFillColor(_GOLD)
        c.setFont(font, 22)
        c.drawCentredString(centre, top, "★" * data.star + "☆" * (5 - data.star))
        top -= 30

    c.setFillColor(_INK)
    name_size = _fitting_size(data.holder_name, 30, width - 200, font=font)
    c.setFont(font, name_size)
    c.drawCentredString(centre, top - 50, data.holder_name)
    name_width = max(pdfmetrics.stringWidth(data.holder_name, font, name_size), 120)
    c.setStrokeColor(_INK)
    c.setLineWidth(0.8)
    c.line(centre - name_width / 2 - 20, top - 58, centre + name_width / 2 + 20, top - 58)

    # Two fixed lines read better than automatic wrapping, which may start a line with "，".
    first = f"经考核，该同志已达到「{data.program_title}」的各项认证要求，"
    lines_height = 0.0
    c.setFont(font, 15)
    if data.wording:  # the county's own sentence, wrapped (CJK rules keep "，" off a line's start)
        body = ParagraphStyle("wording", fontName=font, fontSize=15, leading=26, alignment=TA_CENTER,
                              wordWrap="CJK", textColor=_INK)
        paragraph = Paragraph(escape(data.wording), body)
        _, wrapped = paragraph.wrap(width - 160, 300)
        paragraph.drawOn(c, 80, top - 120 - wrapped + 18)
        lines_height = wrapped - 26
    elif pdfmetrics.stringWidth(first, font, 15) <= width - 160:
        c.drawCentredString(centre, top - 120, first)
        lines_height = 26
    else:  # a very long program title: let reportlab wrap it
        body = ParagraphStyle("body", fontName=font, fontSize=15, leading=26, alignment=TA_CENTER,
                              wordWrap="CJK", textColor=_INK)
        paragraph = Paragraph(escape(first), body)
        _, lines_height = paragraph.wrap(width - 160, 300)
        paragraph.drawOn(c, 80, top - 120 - lines_height + 18)
    if not data.wording:
        c.drawCentredString(centre, top - 120 - lines_height, "成绩合格，特发此证。")
    para_height = lines_height + 26

    rows = (("证书编号", data.number), ("发证日期", chinese_date(data.issued)),
            ("有效期至", chinese_date(data.expires)), ("发证单位", data.issuing_unit))
    y = top - 150 - para_height
    for label, value in rows:
        c.setFont(font, 13)
        c.setFillColor(colors.HexColor("#555555"))
        c.drawString(150, y, f"{label}：")
        c.setFont(font, _fitting_size(value, 15, width - 300, font=font))
        c.setFillColor(_INK)
        c.drawString(150 + 70, y, value)
        y -= 32

    # Bottom: QR code left, issuing unit (to be stamped) right.
    qr_size = 110
    _qr(c, data.verify_url, 80, 105, qr_size)
    c.setFont(font, 12)
    c.setFillColor(_INK)
    c.drawCentredString(80 + qr_size / 2, 90, "扫码核验")
    c.setFont(font, 7)
    c.setFillColor(colors.HexColor("#666666"))
    c.drawString(80, 74, data.verify_url)
    if data.verify_code:
        c.setFont(font, 9)
        c.setFillColor(_INK)
        c.drawString(80, 61, f"核验码 {data.verify_code}")

    c.setFillColor(_INK)
    c.setFont(font, _fitting_size(data.issuing_unit, 15, width - 330, font=font))
    c.drawRightString(width - 90, 185, data.issuing_unit)
    if data.seal_text:
        _seal(c, data.seal_text, width - 160, 170, font)
    else:
        c.setFont(font, 11)
        c.setFillColor(colors.HexColor("#666666"))
        c.drawRightString(width - 90, 165, "（盖章）")
    c.setFillColor(_INK)
    c.setFont(font, 13)
    c.drawRightString(width - 90, 140, chinese_date(data.issued))
    if data.signatory:
        c.setFont(font, _fitting_size(data.signatory, 12, 220, font=font))
        c.drawRightString(width - 90, 118, data.signatory)
    if data.footer:
        c.setFont(font, _fitting_size(data.footer, 9, width - 160, smallest=6, font=font))
        c.setFillColor(colors.HexColor("#555555"))
        c.drawCentredString(centre, 45, data.footer)


def _sample_mark(c: canvas.Canvas, font: str) -> None:
    """样张 across the page: a preview can never pass for a certificate."""
    width, height = A4
    c.saveState()
    c.setFillColor(colors.Color(0.6, 0.1, 0.1, alpha=0.18))
    c.translate(width / 2, height / 2)
    c.rotate(35)
    c.setFont(font, 120)
    c.drawCentredString(0, -40, "样 张")
    c.setFont(font, 22)
    c.drawCentredString(0, -90, "预览，非正式证书")
    c.restoreState()


def _seal(c: canvas.Canvas, text: str, cx: float, cy: float, font: str, radius: float = 50) -> None:
    """An electronic seal: a red ring, the text along its upper arc, a star in the middle."""
    c.saveState()
    c.setStrokeColor(_RED)
    c.setFillColor(_RED)
    c.setLineWidth(2.2)
    c.circle(cx, cy, radius, stroke=1, fill=0)
    text = text[:24]
    size = min(13.0, 2 * math.pi * radius * 0.62 / max(len(text), 1))
    span = min(250.0, len(text) * size * 1.15 / (radius - size) * 180 / math.pi)
    for i, char in enumerate(text):
        angle = 90 + span / 2 - (span * (i + 0.5) / len(text))
        rad = math.radians(angle)
        c.saveState()
        c.translate(cx + (radius - size - 3) * math.cos(rad), cy + (radius - size - 3) * math.sin(rad))
        c.rotate(angle - 90)
        c.setFont(font, size)
        c.drawCentredString(0, 0, char)
        c.restoreState()
    c.setFont(font, 24)
    c.drawCentredString(cx, cy - 9, "★")
    c.restoreState()


def printed_texts(data: CertificateData) -> list[str]:
    """Every string the page prints (the font must cover them all)."""
    return [CERTIFICATE_HEADING, data.program_title, data.holder_name, data.number, data.issuing_unit,
            data.verify_url, data.verify_code, data.seal_text, data.signatory, data.footer, chinese_date(data.issued),
            chinese_date(data.expires), data.wording, "样张预览，非正式证书", "★☆", f"经考核，该同志已达到「{data.program_title}」的各项认证要求，",
            "成绩合格，特发此证。", "证书编号发证日期有效期至发证单位：", "扫码核验核验码", "（盖章）"]


def _attach(c: canvas.Canvas, name: str, content: bytes, description: str) -> None:
    """Embed a file in the PDF (the catalog's EmbeddedFiles name tree), e.g. the signed credential."""
    doc = c._doc  # reportlab has no public API for embedded files; these are its own PDF object classes
    # "/application#2Fjson" written out: PDFName leaves the "/" unescaped.
    stream = PDFStream(PDFDictionary({"Type": PDFName("EmbeddedFile"), "Subtype": "/application#2Fjson",
                                      "Params": PDFDictionary({"Size": len(content)})}), content=content)
    spec = PDFDictionary({"Type": PDFName("Filespec"), "F": PDFString(name), "UF": PDFString(name),
                          "Desc": PDFString(description), "AFRelationship": PDFName("Alternative"),
                          "EF": PDFDictionary({"F": doc.Reference(stream)})})
    doc.Catalog.Names = PDFDictionary({"EmbeddedFiles": PDFDictionary({
        "Names": PDFArray([PDFString(name), doc.Reference(spec)])})})


def render_certificate_pdf(data: CertificateData, *, font_file: str | None = None,
                           credential_json: bytes | None = None) -> bytes:
    """One certificate as a one-page A4 PDF, its font embedded (``font_file``: LMS_CERTIFICATE_FONT).

    ``credential_json``: the signed credential, attached as ``<number>.credential.json``.
    """
    font = font_for(printed_texts(data), font_file or data.font_file or None)
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=font)
    c.setTitle(f"{CERTIFICATE_HEADING} {data.number}")
    c.setSubject(data.program_title)
    c.setAuthor(data.issuing_unit)
    c.setCreator("网格学堂")
    _draw(c, data, font)
    if data.sample:
        _sample_mark(c, font)
    if credential_json:
        _attach(c, f"{data.number}.credential.json", credential_json, "电子证书（可验证凭证，含发证单位签名）")
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
