"""学时档案 as an A4 PDF (Simplified Chinese, text extractable) and as an XLSX workbook; pure.

The PDF uses the certificates' CJK font set-up (reportlab's STSong-Light CID
font, lms.certification.pdf). The workbook writes every cell through the
exports' neutralise(), so text that looks like a formula stays text.
"""
from __future__ import annotations

import io
from xml.sax.saxutils import escape

import xlsxwriter
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

# The certificate PDF's font and its registration: one CJK set-up for every PDF of the app.
from lms.certification.pdf import FONT
from lms.certification.pdf import _ensure_font as ensure_font
from lms.records.present import Section, day, sections, summary
from lms.records.queries import Record
# A pure module (no feature imports): the one formula-neutralising rule of every export.
from lms.reports.exports import neutralise

TITLE = "网格员学时档案"
_INK = colors.HexColor("#1f1f1f")
_HEAD = colors.HexColor("#e8eef7")
_RULE = colors.HexColor("#9aa5b1")


def _styles() -> dict[str, ParagraphStyle]:
    base = {"fontName": FONT, "textColor": _INK, "wordWrap": "CJK"}
    return {"title": ParagraphStyle("title", fontSize=20, leading=28, alignment=1, **base),
            "meta": ParagraphStyle("meta", fontSize=10.5, leading=16, **base),
            "h2": ParagraphStyle("h2", fontSize=13, leading=20, spaceBefore=8, spaceAfter=4, **base),
            "cell": ParagraphStyle("cell", fontSize=9, leading=12, **base),
            "empty": ParagraphStyle("empty", fontSize=9.5, leading=14, textColor=colors.HexColor("#555555"),
                                    fontName=FONT, wordWrap="CJK")}


def _table(header, rows, style: ParagraphStyle, widths=None) -> Table:
    cell = lambda value: Paragraph(escape("" if value is None else str(value)), style)  # noqa: E731
    table = Table([[cell(h) for h in header]] + [[cell(v) for v in row] for row in rows], colWidths=widths,
                  repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, _RULE), ("BACKGROUND", (0, 0), (-1, 0), _HEAD),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 4),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 4)]))
    return table


def _section_widths(section: Section, total: float) -> list[float]:
    # The first column holds titles: give it the room the others do not need.
    n = len(section.header)
    first = total * (0.34 if n > 4 else 0.46)
    if section.key == "certificates" or section.key == "trainings":
        first = total * 0.28
    rest = (total - first) / (n - 1)
    return [first] + [rest] * (n - 1)


def render_record_pdf(record: Record, *, issuing_unit: str = "") -> bytes:
    """The record as an A4 PDF: who, totals, then every section (an empty one says so)."""
    ensure_font()
    styles = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=f"{TITLE} — {record.user['name']}", author=issuing_unit or TITLE)
    width = A4[0] - 32 * mm
    user = record.user
    story = [Paragraph(TITLE, styles["title"]), Spacer(1, 4 * mm),
             Paragraph(escape(f"姓名：{user['name']}　　工号：{user['username']}"), styles["meta"]),
             Paragraph(escape(f"所在单位：{user['org_path']}"), styles["meta"]),
             Paragraph(escape(f"统计截至：{day(record.as_of)}" + (f"　　出具单位：{issuing_unit}" if issuing_unit else "")),
                       styles["meta"]),
             Paragraph("汇总", styles["h2"])]
    pairs = summary(record)
    rows = [[pairs[i][0], pairs[i][1], *(pairs[i + 1] if i + 1 < len(pairs) else ("", ""))]
            for i in range(0, len(pairs), 2)]
    story.append(_table(("项目", "数值", "项目", "数值"), rows, styles["cell"],
                        [width * 0.18, width * 0.32, width * 0.18, width * 0.32]))
    for section in sections(record):
        story.append(Paragraph(escape(section.title), styles["h2"]))
        if section.rows:
            story.append(_table(section.header, section.rows, styles["cell"], _section_widths(section, width)))
        else:
            story.append(Paragraph(escape(section.empty), styles["empty"]))

    def footer(canvas, document):
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawRightString(A4[0] - 16 * mm, 9 * mm, f"第 {document.page} 页")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def render_record_xlsx(record: Record) -> bytes:
    """The record as a workbook: 汇总 first, then a sheet per section; every cell formula-safe."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})
    bold = book.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1})

    def write(sheet, row: int, values) -> None:
        for col, value in enumerate(values):
            value = neutralise(value)
            if isinstance(value, str):
                sheet.write_string(row, col, value)
            elif value is None:
                sheet.write_blank(row, col, None)
            else:
                sheet.write(row, col, value)

    user = record.user
    head = book.add_worksheet("汇总")
    head.set_column(0, 0, 22)
    head.set_column(1, 1, 48)
    for row, pair in enumerate([("姓名", user["name"]), ("工号", user["username"]), ("所在单位", user["org_path"]),
                                ("统计截至", day(record.as_of))] + summary(record)):
        write(head, row, pair)
    for section in sections(record):
        sheet = book.add_worksheet(section.title[:31].replace("（", "(").replace("）", ")"))
        sheet.set_column(0, 0, 30)
        sheet.set_column(1, len(section.header) - 1, 14)
        for col, title in enumerate(section.header):
            sheet.write_string(0, col, title, bold)
        for row, values in enumerate(section.rows, start=1):
            write(sheet, row, values)
        if not section.rows:
            write(sheet, 1, [section.empty])
    book.close()
    return buffer.getvalue()
