"""Markdown → sanitised HTML: the only place in the app where HTML is marked safe.

Lessons, course summaries, questions and scenarios are rendered here once
(at import or save time) and the result is stored; requests only read it.
Sanitising runs AFTER rendering, so whatever raw HTML a Markdown file holds
goes through the same strict allow-list as the generated markup.
"""
from __future__ import annotations

import html
import re
import threading
from urllib.parse import urlsplit

import markdown
import nh3
from markdown.extensions.toc import slugify_unicode
from markupsafe import Markup

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


def _markdown() -> markdown.Markdown:
    # Markdown instances are not thread-safe and costly to build: one per thread, reset per call.
    md = getattr(_local, "md", None)
    if md is None:
        md = markdown.Markdown(
            extensions=["tables", "fenced_code", "sane_lists", "toc"],
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
    """Markdown → sanitised HTML (tables, fenced code, lists, heading anchors); relative images under asset_base."""
    rendered = _markdown().convert(text or "")
    return Markup(sanitise(rendered, asset_base=asset_base))


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
