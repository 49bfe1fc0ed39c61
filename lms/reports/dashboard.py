"""HR dashboard: statistics figures in, horizontal bar charts as inline SVG out.

Pure: no Flask, no database. The view hands over the dict of
lms.reports.stats.org_stats (plus the certified share it adds); this module
picks the figures, formats them and draws the bars. Every bar carries its unit
name and its figure as text, so nothing is told by colour alone; the SVG has
no ``style`` attributes (the CSP forbids them) and scales with its viewBox.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from markupsafe import Markup, escape

#: drawing units; the stylesheet scales the SVG to its column (about 300–330 px on a phone or a tablet column,
#: so the text stays near 15 px)
WIDTH = 300
FONT = 15
NAME_ROW = 22  # a unit name (and a single bar's figure) above its bar
LABEL_ROW = 20  # a sub-label (e.g. 30 天内) above each bar of a group
BAR = 14
GAP = 12
TRACK_FILL = "#e9ecef"
BAR_FILL = "#0b5ed7"
TEXT_FILL = "#212529"
#: estimated advance of a character, in FONT units: CJK and full-width ones are square, the rest about half
NARROW = 0.6


@dataclasses.dataclass(frozen=True)
class Bar:
    """One bar: its sub-label ("" when it is the unit's only bar), value on the chart's scale, figure as shown."""

    label: str
    value: float
    text: str


@dataclasses.dataclass(frozen=True)
class Group:
    """A unit's bars under its name."""

    name: str
    bars: tuple[Bar, ...]


@dataclasses.dataclass(frozen=True)
class Chart:
    """A titled chart, its total line for the unit itself, and the SVG markup."""

    key: str
    title: str
    note: str
    total: str
    svg: Markup


def format_rate(part: int | None, whole: int | None, rate: float | None) -> str:
    """'62.5%（5/8）', or '无数据' when nothing was counted (a rate of nothing is not 0%)."""
    if not whole or rate is None:
        return "无数据"
    return f"{rate * 100:.1f}%（{part}/{whole}）"


def format_count(value: int | float | None) -> str:
    """An integer figure as text; '—' when the feature gave none."""
    return "—" if value is None else f"{value:g}"


def _advance(text: str) -> float:
    """Estimated width of text in drawing units (no font metrics on the server; errs wide)."""
    return sum(FONT * (NARROW if ord(ch) < 0x2000 else 1.0) for ch in text)


def _fit(name: str, room: float) -> str:
    """The name, cut with '…' so that it fits in room drawing units beside the figure."""
    if _advance(name) <= room:
        return name
    while name and _advance(name + "…") > room:
        name = name[:-1]
    return name + "…"


def _width(value: float, maximum: float) -> float:
    if value <= 0 or maximum <= 0:
        return 0.0
    # A non-zero figure keeps a visible sliver even next to a much larger one.
    return max(2.0, round(WIDTH * min(value, maximum) / maximum, 1))


def _text(x: float, y: float, content: str, *, anchor: str = "start", bold: bool = False) -> str:
    weight = ' font-weight="700"' if bold else ""
    return (f'<text x="{x:g}" y="{y:g}" font-size="{FONT}" fill="{TEXT_FILL}" text-anchor="{anchor}"{weight}>'
            f"{escape(content)}</text>")


def _bar(y: float, value: float, maximum: float) -> str:
    track = f'<rect x="0" y="{y:g}" width="{WIDTH}" height="{BAR}" rx="3" fill="{TRACK_FILL}"/>'
    width = _width(value, maximum)
    fill = f'<rect x="0" y="{y:g}" width="{width:g}" height="{BAR}" rx="3" fill="{BAR_FILL}"/>' if width else ""
    return track + fill


def bar_chart(chart_id: str, title: str, groups: Sequence[Group], *, maximum: float | None = None) -> Markup:
    """Horizontal bars, one group per unit: name above, figure at the right, bar below (SVG, role=img).

    ``maximum`` fixes the scale (1.0 for rates); by default the largest value.
    """
    values = [bar.value for group in groups for bar in group.bars]
    scale = maximum if maximum is not None else max(values, default=0)
    parts, summary, y = [], [], 0.0
    for group in groups:
        single = len(group.bars) == 1
        figure_room = _advance(group.bars[0].text) + FONT if single else 0
        parts.append(_text(0, y + FONT, _fit(group.name, WIDTH - figure_room), bold=not single))
        if single:
            parts.append(_text(WIDTH, y + FONT, group.bars[0].text, anchor="end"))
        y += NAME_ROW - (0 if single else 4)
        for bar in group.bars:
            if not single:
                parts.append(_text(8, y + FONT, bar.label))
                parts.append(_text(WIDTH, y + FONT, bar.text, anchor="end"))
                y += LABEL_ROW
            parts.append(_bar(y, bar.value, scale))
            y += BAR + (GAP if single else 6)
        if not single:
            y += GAP - 6
        summary.append(f"{group.name}：" + "，".join(f"{bar.label} {bar.text}".strip() for bar in group.bars))
    height = max(y - GAP, 1.0)
    if not groups:
        parts.append(_text(0, FONT, "没有下级单位"))
        height = NAME_ROW
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="dash-chart-svg" viewBox="0 0 {WIDTH} {height:g}" '
        f'width="{WIDTH}" height="{height:g}" role="img" aria-labelledby="{title_id} {desc_id}">'
        f'<title id="{title_id}">{escape(title)}</title><desc id="{desc_id}">{escape("；".join(summary))}</desc>'
        + "".join(parts) + "</svg>")


#: rate charts: (chart key, title, source key, part field, whole field, rate field, note)
RATES = (
    ("completion", "课程完成率", "courses", "completed", "assigned", "completion_rate",
     "已完成 / 指派（人·门），截止日期在统计期内的指派"),
    ("pass", "测验通过率", "quizzes", "passed", "attempts", "pass_rate", "通过 / 交卷人次"),
    ("returns", "模拟上报退回率", "drills", "returned", "reports", "return_rate", "退回 / 上报份数；越低越好"),
    ("certified", "持证率", "certified", "certified", "workers", "share",
     "截止日持有效证书的在岗网格员（含网格长） / 在岗网格员"),
)
#: count charts: (chart key, title, source key, field, note)
COUNTS = (
    ("sessions", "培训场次", "trainings", "sessions", "统计期内举办的线下培训，取消的不计"),
    ("attendances", "培训人次", "trainings", "attendances", "签到人次，计入当时所在单位"),
)
EXPIRING = (("expiring_30", "30 天内"), ("expiring_60", "60 天内"), ("expiring_90", "90 天内"))


def _units(result: dict) -> list[dict]:
    # A unit without children (a grid) shows itself, so the chart is never empty.
    return result.get("children") or [result]


def charts(result: dict) -> list[Chart]:
    """The dashboard's charts for an org_stats result: one bar per direct child unit; absent features left out."""
    units, out = _units(result), []
    total_name = result["org"]["name"]
    for key, title, source, part, whole, rate, note in RATES:
        if source not in result:
            continue
        groups = [Group(u["org"]["name"], (Bar("", u[source].get(rate) or 0.0,
                                               format_rate(u[source].get(part), u[source].get(whole),
                                                           u[source].get(rate))),)) for u in units]
        total = result[source]
        total_text = format_rate(total.get(part), total.get(whole), total.get(rate))
        out.append(Chart(key, title, note, f"{total_name}合计：{total_text}",
                         bar_chart(f"chart-{key}", title, groups, maximum=1.0)))
    if "certificates" in result:
        groups = [Group(u["org"]["name"], tuple(Bar(label, u["certificates"].get(field) or 0,
                                                    format_count(u["certificates"].get(field)))
                                                for field, label in EXPIRING)) for u in units]
        total = result["certificates"]
        out.append(Chart("expiring", "即将到期证书", "截止日仍有效、将在 30/60/90 天内到期且未续发的证书（张）",
                         f"{total_name}合计：" + "，".join(f"{label} {format_count(total.get(field))} 张"
                                                        for field, label in EXPIRING),
                         bar_chart("chart-expiring", "即将到期证书（张）", groups)))
    for key, title, source, field, note in COUNTS:
        if source not in result:
            continue
        groups = [Group(u["org"]["name"], (Bar("", u[source].get(field) or 0, format_count(u[source].get(field))),))
                  for u in units]
        out.append(Chart(key, title, note, f"{total_name}合计：{format_count(result[source].get(field))}",
                         bar_chart(f"chart-{key}", title, groups)))
    return out


#: table columns: (heading, source key, field, kind); kind "rate" names its part and whole fields
TABLE_COLUMNS = (
    ("培训场次", "trainings", "sessions", None),
    ("培训人次", "trainings", "attendances", None),
    ("课程完成率", "courses", "completion_rate", ("completed", "assigned")),
    ("测验通过率", "quizzes", "pass_rate", ("passed", "attempts")),
    ("模拟上报退回率", "drills", "return_rate", ("returned", "reports")),
    ("持证率", "certified", "share", ("certified", "workers")),
    ("有效证书", "certificates", "valid", None),
    ("30 天内到期", "certificates", "expiring_30", None),
    ("60 天内到期", "certificates", "expiring_60", None),
    ("90 天内到期", "certificates", "expiring_90", None),
)


def table(result: dict) -> tuple[list[str], list[dict]]:
    """(headings, rows) with the same figures as the charts: the unit's total first, then each child.

    Each cell is {"key": "source.field", "value": raw figure, "text": as shown}.
    """
    columns = [c for c in TABLE_COLUMNS if c[1] in result]
    rows = []
    for item, is_total in [(result, True)] + [(child, False) for child in result.get("children", [])]:
        cells = []
        for _, source, field, rate_of in columns:
            figures = item.get(source, {})
            value = figures.get(field)
            text = (format_rate(figures.get(rate_of[0]), figures.get(rate_of[1]), value) if rate_of
                    else format_count(value))
            cells.append({"key": f"{source}.{field}", "value": value, "text": text})
        rows.append({"name": item["org"]["name"], "code": item["org"]["code"], "total": is_total, "cells": cells})
    return [c[0] for c in columns], rows
