"""render_markdown / render_plain: hostile input comes out inert, ordinary Markdown survives."""
from __future__ import annotations

import pytest
from markupsafe import Markup

from lms.courses.render import render_markdown, render_plain, trusted

HOSTILE = [
    ("<script>alert(1)</script>正文", ["<script", "alert(1)"]),
    ("[点我](javascript:alert(1))", ["javascript:"]),
    ("[点我](JaVaScRiPt:alert(1))", ["javascript", "JaVaScRiPt"]),
    ("<a href=\"javascript:alert(1)\">x</a>", ["javascript:"]),
    ("<img src=x onerror=alert(1)>", ["onerror", "alert"]),
    ("![图](data:image/png;base64,iVBORw0KGgo=)", ["data:"]),
    ("<a href=\"data:text/html;base64,PHNjcmlwdD4=\">x</a>", ["data:"]),
    ("<iframe src=\"https://evil.example\">后备</iframe>", ["<iframe", "evil.example", "后备"]),
    ("<div style=\"position:fixed\" onclick=\"steal()\">原始</div>", ["style=", "onclick", "<div"]),
    ("<svg><script>alert(1)</script></svg>", ["<svg", "alert"]),
    ("<form action=\"/x\"><input name=a></form>", ["<form", "<input"]),
    ("<p onmouseover=\"x()\">段</p>", ["onmouseover"]),
    ("<style>body{display:none}</style>", ["<style", "display:none"]),
    ("[x](//evil.example/path)", ["evil.example"]),
    ("<object data=\"x.swf\"></object><embed src=\"x.swf\">", ["<object", "<embed", "x.swf"]),
]


@pytest.mark.parametrize("source, forbidden", HOSTILE)
def test_hostile_markdown_comes_out_inert(source, forbidden):
    out = render_markdown(source)
    for needle in forbidden:
        assert needle.lower() not in out.lower(), out


def test_tables_fenced_code_lists_and_heading_anchors_render():
    source = "## 八个要素\n\n| 要素 | 要求 |\n| --- | --- |\n| 时间 | 具体到时分 |\n\n```\n<b>代码</b>\n```\n\n1. 一\n2. 二\n"
    out = render_markdown(source)
    assert '<h2 id="八个要素">八个要素</h2>' in out
    assert "<table>" in out and "<td>具体到时分</td>" in out
    assert "<pre><code>&lt;b&gt;代码&lt;/b&gt;" in out
    assert "<ol>" in out and "<li>二</li>" in out


def test_table_alignment_styles_are_dropped():
    out = render_markdown("| a | b |\n|:--|--:|\n| 1 | 2 |\n")
    assert "style" not in out and "<th>a</th>" in out


def test_relative_image_is_rewritten_under_asset_base():
    out = render_markdown("![流程](flow.png)", asset_base="/courses/c1/assets/")
    assert 'src="/courses/c1/assets/flow.png"' in out
    assert 'alt="流程"' in out


def test_remote_image_loses_its_source():
    out = render_markdown("![x](https://tracker.example/p.gif)", asset_base="/courses/c1/assets/")
    assert "tracker.example" not in out


def test_links_keep_http_and_relative_targets_with_noopener():
    out = render_markdown("[法](https://flk.npc.gov.cn/) [下一课](02-next.md)")
    assert 'href="https://flk.npc.gov.cn/"' in out and 'href="02-next.md"' in out
    assert out.count('rel="noopener noreferrer"') == 2


def test_mailto_and_other_schemes_are_dropped():
    out = render_markdown("[信](mailto:a@b.c) [v](vbscript:x)")
    assert "mailto" not in out and "vbscript" not in out


def test_render_returns_markup_that_templates_do_not_escape_again():
    assert isinstance(render_markdown("a"), Markup)
    assert isinstance(trusted("<p>x</p>"), Markup)


def test_render_plain_escapes_html_and_keeps_line_breaks():
    out = render_plain("<html>题干</html>\n第二行\n\n第二段 & 更多")
    assert out == "<p>&lt;html&gt;题干&lt;/html&gt;<br>\n第二行</p><p>第二段 &amp; 更多</p>"


def test_render_plain_of_blank_text_is_empty():
    assert render_plain("  \n \n") == ""
    assert render_markdown("") == ""
