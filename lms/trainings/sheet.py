"""The printable sign-in sheet (签到表) of a session: A4, the roll with a signature column, the check-in QR.

Pure: plain values in, PDF bytes out. The Chinese font is the certificates' embedded one (a subset per PDF,
lms.certification.pdf.font_for), so a printer without Chinese fonts prints the same sheet.
"""
from __future__ import annotations

import dataclasses
import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from lms.certification.pdf import _qr as draw_qr
from lms.certification.pdf import font_for

_INK = colors.HexColor("#1f1f1f")
_GREY = colors.HexColor("#666666")
_TALLY = "应到 ____ 人，实到 ____ 人（培训师填写）　　培训师签字：__________"
QR_CAPTION = ("扫码打开签到页", "输入屏幕上的签到码")
ROLL_HEADER = ("序号", "姓名", "所属网格/单位", "手机号", "签到情况", "本人签名")


@dataclasses.dataclass(frozen=True)
class SheetRow:
    name: str
    unit: str
    phone: str  # already masked unless the viewer holds pii
    signed: str = ""  # "已签到 09:05" when recorded before printing


@dataclasses.dataclass(frozen=True)
class SheetData:
    heading: str  # e.g. 红溪县线下培训签到表
    title: str
    when: str
    place: str
    trainer: str
    org: str
    hours: str
    level: str
    checkin_url: str
    printed: str  # 打印时间
    rows: tuple[SheetRow, ...]


def printed_texts(data: SheetData) -> list[str]:
    """Every string the sheet prints (the font must cover them all)."""
    fixed = ["第 页，共 页", "培训主题", "时间", "地点", "培训师", "参训组织", "学时", "层级", "打印时间",
             *QR_CAPTION, _TALLY,
             "（名单为空：本场培训的参训组织下没有在岗人员）", *ROLL_HEADER]
    values = [data.heading, data.title, data.when, data.place, data.trainer, data.org, data.hours, data.level,
              data.printed]
    return fixed + values + [text for row in data.rows for text in (row.name, row.unit, row.phone, row.signed)]


class _QrBox(Flowable):
    """The check-in QR with its caption, drawn as rectangles (no unembedded font)."""

    def __init__(self, url: str, size: float, font: str):
        super().__init__()
        self.url, self.size, self.font = url, size, font
        self.width, self.height = size, size + 20

    def draw(self):
        draw_qr(self.canv, self.url, 0, 20, self.size)
        self.canv.setFont(self.font, 7)
        self.canv.setFillColor(_GREY)
        self.canv.drawCentredString(self.size / 2, 11, QR_CAPTION[0])
        self.canv.drawCentredString(self.size / 2, 2, QR_CAPTION[1])


def _numbered_canvas(font: str, footer_left: str):
    class NumberedCanvas(pdfcanvas.Canvas):
        """Two passes: the page count is known once every page is laid out (第 X 页，共 Y 页)."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(font, 8)
                self.setFillColor(_GREY)
                self.drawString(16 * mm, 9 * mm, footer_left[:60])
                self.drawRightString(A4[0] - 16 * mm, 9 * mm, f"第 {self._pageNumber} 页，共 {total} 页")
                super().showPage()
            super().save()

    return NumberedCanvas


def render_sheet_pdf(data: SheetData) -> bytes:
    """The sheet as A4 PDF bytes; the roll runs over as many pages as it needs, its header repeated."""
    font = font_for(printed_texts(data))
    base = {"fontName": font, "textColor": _INK, "wordWrap": "CJK"}
    heading = ParagraphStyle("heading", fontSize=18, leading=24, alignment=1, **base)
    sub = ParagraphStyle("sub", fontSize=12.5, leading=17, alignment=1, spaceAfter=4, **base)
    meta = ParagraphStyle("meta", fontSize=10, leading=14, **base)
    cell = ParagraphStyle("cell", fontSize=9.5, leading=12, **base)
    head_cell = ParagraphStyle("head", fontSize=9.5, leading=12, alignment=1, **base)

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=14 * mm,
                            bottomMargin=16 * mm, title=f"签到表：{data.title}", author="网格学堂",
                            subject="线下培训签到表",
                            initialFontName=font)  # no Helvetica (never embedded) in the page resources
    width = A4[0] - 32 * mm

    facts = [("培训主题", data.title), ("层级", data.level), ("时间", data.when), ("地点", data.place),
             ("培训师", data.trainer), ("参训组织", data.org), ("学时", data.hours), ("打印时间", data.printed)]
    fact_rows = [[Paragraph(f"{escape(k)}：{escape(v)}", meta)] for k, v in facts]
    qr_size = 30 * mm
    facts_table = Table(fact_rows, colWidths=[width - qr_size - 8 * mm])
    facts_table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                     ("TOPPADDING", (0, 0), (-1, -1), 1),
                                     ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    top = Table([[facts_table, _QrBox(data.checkin_url, qr_size, font)]],
                colWidths=[width - qr_size - 6 * mm, qr_size + 6 * mm])
    top.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                             ("LEFTPADDING", (0, 0), (-1, -1), 0),
                             ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))

    widths = [11 * mm, 24 * mm, 48 * mm, 27 * mm, 24 * mm]
    widths.append(width - sum(widths))
    table_rows = [[Paragraph(escape(h), head_cell) for h in ROLL_HEADER]]
    for number, row in enumerate(data.rows, start=1):
        table_rows.append([Paragraph(str(number), cell), Paragraph(escape(row.name), cell),
                           Paragraph(escape(row.unit), cell), Paragraph(escape(row.phone), cell),
                           Paragraph(escape(row.signed), cell), ""])
    roll = Table(table_rows, colWidths=widths, repeatRows=1, rowHeights=[9 * mm] + [10 * mm] * len(data.rows))
    roll.setStyle(TableStyle([
        # a table's own font for string cells (the empty signature cells): Helvetica otherwise, never embedded
        ("FONTNAME", (0, 0), (-1, -1), font), ("GRID", (0, 0), (-1, -1), 0.6, _INK),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee"))]))

    story = [Paragraph(escape(data.heading), heading), Paragraph(escape(data.title), sub), top, Spacer(1, 4 * mm),
             roll]
    if not data.rows:
        story.append(Paragraph("（名单为空：本场培训的参训组织下没有在岗人员）", meta))
    story += [Spacer(1, 5 * mm), Paragraph(_TALLY, meta)]
    doc.build(story, canvasmaker=_numbered_canvas(font, f"{data.heading} · {data.title}"))
    return buffer.getvalue()
