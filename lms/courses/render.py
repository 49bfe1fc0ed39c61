"""Markdown → sanitised HTML: the only place in the app where HTML is marked safe.

Lessons, course summaries, questions and scenarios are rendered here once
(at import or save time) and the result is stored; requests only read it.
Sanitising runs AFTER rendering, so whatever raw HTML a Markdown file holds
goes through the same strict allow-list as the generated markup.
"""
from __future__ import annotations

import contextlib
import html
import re
import signal
import threading
from urllib.parse import urlsplit

import markdown
import nh3
from markdown.extensions import Extension
from markdown.extensions.toc import slugify_unicode
from markdown.inlinepatterns import IMAGE_LINK_RE, LINK_RE, ImageInlineProcessor, LinkInlineProcessor
from markupsafe import Markup

from lms.errors import ValidationError

ALLOWED_TAGS = frozenset({
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td",
    "code", "pre", "blockquote", "a", "img", "em", "strong", "hr", "br",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    **{f"h{n}": {"id"} for n in range(1, 7)},
}
# Dropped with their content, not just unwrapped: their text is code or a fallback, never reading matter.
_DROP_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "template", "noscript", "svg",
                                "math", "textarea", "select"})

_local = threading.local()

# --- limits: what no lesson needs and what makes python-markdown slow (bench/markdown_worst.py measures them) ---

#: characters of Markdown one text may hold (a long lesson is some 20,000)
MAX_CHARS = 200_000
#: characters of one paragraph (text between blank lines; a table or a list without blank lines is one):
#: python-markdown's inline pass is quadratic in it
MAX_BLOCK_CHARS = 20_000
#: '[' in one paragraph / in the whole text (links and images; each costs a scan of its paragraph)
MAX_BRACKETS_PER_BLOCK = 200
MAX_BRACKETS = 4_000
#: '*' and '_' in one paragraph, list markers aside (each pair nests an element; deep nesting overflows the stack)
MAX_EMPHASIS_PER_BLOCK = 400
#: quote and list markers opening one line ("> - > 1. …"), and its indentation in columns
MAX_NESTING = 16
MAX_INDENT = 64
#: an HTML tag ('<' then a letter, '/', '!' or '?') must close with '>' within this many characters: an unclosed
#: one makes the HTML parser scan the rest of the text, once per tag
MAX_TAG_CHARS = 1_000
#: link text and link target are looked for this far after '[' / '(' (python-markdown scans to the end)
LINK_WINDOW = 2_000
#: seconds one rendering may take on the main thread (gunicorn's sync workers) before it is abandoned
TIME_BUDGET = 2.0


class MarkdownRefused(ValidationError):
    """Markdown the renderer will not take (too long, too many links, too deeply nested, too slow)."""

    code = "markdown_too_complex"
    #: the line of the text the refusal is about (1 when it concerns the whole text)
    line = 1


class _OutOfTime(BaseException):
    # BaseException: no `except Exception` inside python-markdown may swallow it.
    pass


_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_LINE_MARKERS = re.compile(r"[ \t]*(?:>|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t]))")
_LIST_MARKER = re.compile(r"^[ \t]*[-*+][ \t]", re.MULTILINE)
_TAG_START = re.compile(r"<[A-Za-z/!?]")


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _refuse(line: int, what: str) -> MarkdownRefused:
    refused = MarkdownRefused(f"正文第 {line} 行附近{what}，请拆分或简化后再保存")
    refused.line = line
    return refused


def check_markdown(text: str) -> None:
    """Refuse (MarkdownRefused, 422) Markdown past the limits above, naming the line; None when it may be rendered."""
    if len(text) > MAX_CHARS:
        raise MarkdownRefused(f"正文太长：{len(text):,} 个字符，不能超过 {MAX_CHARS:,} 个字符")
    if text.count("[") > MAX_BRACKETS:
        raise MarkdownRefused(f"正文中的方括号“[”太多（{text.count('['):,} 个，链接和图片合计不能超过 {MAX_BRACKETS:,} 个），"
                              "请拆分成几个课时")
    offset = 0
    for block in _BLANK_LINE.split(text):
        start = text.find(block, offset) if block else offset
        offset = start + len(block)
        if len(block) > MAX_BLOCK_CHARS:
            raise _refuse(_line_of(text, start), f"的一段太长（{len(block):,} 个字符，空行之间的一段、一张表格或一串列表"
                                                 f"不能超过 {MAX_BLOCK_CHARS:,} 个字符）：请用空行分段")
        if block.count("[") > MAX_BRACKETS_PER_BLOCK:
            raise _refuse(_line_of(text, start), f"的一段中方括号“[”太多（{block.count('[')} 个，一段最多 "
                                                 f"{MAX_BRACKETS_PER_BLOCK} 个链接或图片）")
        stars = block.count("*") + block.count("_")
        if stars > MAX_EMPHASIS_PER_BLOCK:
            stars -= len(_LIST_MARKER.findall(block))
            if stars > MAX_EMPHASIS_PER_BLOCK:
                raise _refuse(_line_of(text, start), f"的一段中强调符号“*”“_”太多（{stars} 个，一段最多 "
                                                     f"{MAX_EMPHASIS_PER_BLOCK} 个）")
    for number, line in enumerate(text.split("\n"), start=1):
        indent = len(line) - len(line.lstrip(" \t"))
        if indent and len(line[:indent].expandtabs(4)) > MAX_INDENT:
            raise _refuse(number, f"缩进太深（超过 {MAX_INDENT} 格）")
        if _LINE_MARKERS.match(line):
            depth, position = 0, 0
            while depth <= MAX_NESTING and (marker := _LINE_MARKERS.match(line, position)):
                depth, position = depth + 1, marker.end()
            if depth > MAX_NESTING:
                raise _refuse(number, f"引用或列表嵌套太深（一行开头最多 {MAX_NESTING} 层“>”或列表符号）")
    for tag in _TAG_START.finditer(text):
        if text.find(">", tag.start(), tag.start() + MAX_TAG_CHARS) < 0:
            snippet = " ".join(text[tag.start():tag.start() + 12].split())
            raise _refuse(_line_of(text, tag.start()), f"的“{snippet}…”没有闭合的“>”（要显示小于号，请写成 \\<）")


class _BoundedLinks(Extension):
    """Links and images whose text and target are looked for within LINK_WINDOW characters.

    python-markdown finds a link's closing ']' by indexing the whole paragraph again after every link, and its
    ')' by scanning to the end: both quadratic in the paragraph ("[a](b)" × 1,333 took 15 s).
    """

    def extendMarkdown(self, md):
        md.inlinePatterns.register(_BoundedLink(LINK_RE, md), "link", 160)
        md.inlinePatterns.register(_BoundedImage(IMAGE_LINK_RE, md), "image_link", 150)


class _WindowMixin:
    def getText(self, data: str, index: int):
        text, end, handled = super().getText(data[index:index + LINK_WINDOW], 0)
        return (text, index + end, True) if handled else (data[index:], len(data), False)

    def getLink(self, data: str, index: int):
        href, title, end, handled = super().getLink(data[index:index + LINK_WINDOW], 0)
        return href, title, index + end, handled


class _BoundedLink(_WindowMixin, LinkInlineProcessor):
    pass


class _BoundedImage(_WindowMixin, ImageInlineProcessor):
    pass


@contextlib.contextmanager
def _time_budget(seconds: float):
    """Interrupt the block after `seconds` (SIGALRM; only on the main thread, where sync workers serve requests).

    Elsewhere (threaded servers, tests' live server) the input limits alone bound the time.
    """
    if (threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer")
            or signal.getitimer(signal.ITIMER_REAL)[0]):  # someone else's timer is running: leave it be
        yield
        return

    def _expired(signum, frame):
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _markdown() -> markdown.Markdown:
    # Markdown instances are not thread-safe and costly to build: one per thread, reset per call.
    md = getattr(_local, "md", None)
    if md is None:
        md = markdown.Markdown(
            extensions=["tables", "fenced_code", "sane_lists", "toc", _BoundedLinks()],
            extension_configs={"toc": {"slugify": slugify_unicode, "permalink": False}},
            output_format="html",
        )
        _local.md = md
    md.reset()
    return md


def _is_relative(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith(("/", "\\"))


def _attribute_filter(asset_base: str | None):
    def keep(element: str, attribute: str, value: str) -> str | None:
        if element == "img" and attribute == "src":
            value = value.strip()
            # Only the course's own files: remote images would leak readers' addresses (and CSP blocks them).
            if not value or not _is_relative(value) or value.lower().startswith(("data:", "javascript:")):
                return None
            return (asset_base + value.removeprefix("./")) if asset_base else value
        if element == "a" and attribute == "href":
            value = value.strip()
            scheme = urlsplit(value).scheme.lower()
            if scheme and scheme not in ("http", "https"):
                return None
            if value.startswith("//"):
                return None
        return value

    return keep


def sanitise(fragment: str, *, asset_base: str | None = None) -> str:
    """Apply the allow-list to an HTML fragment (used after rendering)."""
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_DROP_WITH_CONTENT),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_attribute_filter(asset_base),
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render_markdown(text: str, *, asset_base: str | None = None) -> str:
    """Markdown → sanitised HTML (tables, fenced code, lists, heading anchors); relative images under asset_base.

    Refuses (MarkdownRefused, 422) text past the limits, and text whose rendering outlasts TIME_BUDGET.
    """
    text = text or ""
    check_markdown(text)
    try:
        with _time_budget(TIME_BUDGET):
            rendered = _markdown().convert(text)
            cleaned = sanitise(rendered, asset_base=asset_base)
    except _OutOfTime:
        _local.md = None  # interrupted anywhere inside: build a fresh one next time
        raise MarkdownRefused(f"正文太复杂，{TIME_BUDGET:g} 秒内未能排版完成：请拆分成几段或几个课时，"
                              "减少链接、嵌套列表和 HTML 标签") from None
    except RecursionError:
        _local.md = None
        raise MarkdownRefused("正文嵌套太深（强调、引用或列表层层套叠），请简化后再保存") from None
    return Markup(cleaned)


_BLANK_LINES = re.compile(r"\n\s*\n")


def render_plain(text: str) -> str:
    """Plain text → HTML: everything escaped, paragraphs on blank lines, line breaks kept."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if not text.strip():
        return Markup("")
    paragraphs = [p for p in _BLANK_LINES.split(text) if p.strip()]
    return Markup("".join("<p>" + html.escape(p).replace("\n", "<br>\n") + "</p>" for p in paragraphs))


def trusted(stored_html: str | None) -> Markup:
    """HTML that came out of render_markdown/render_plain and was stored: safe to insert in a template."""
    return Markup(stored_html or "")
