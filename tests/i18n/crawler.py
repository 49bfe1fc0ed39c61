"""Walk an app's HTML pages as one logged-in user and list the words on them that are not words people use.

Pure helpers (no app): `visible_text` keeps what a reader sees (no <code>, <pre>, <script>, <style>,
<textarea>, attribute values or field names), `leaks` finds internal identifiers and English in it, `links`
collects same-origin links to follow. `crawl` drives a Flask test client over them, bounded.
"""
from __future__ import annotations

import dataclasses
import re
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urldefrag, urlencode, urljoin, urlsplit

#: elements whose text is code, data or a field's value, not prose
SKIPPED = {"code", "pre", "script", "style", "textarea", "template", "kbd", "samp", "svg"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

#: real things people call by these names (formats, standards, product names); never internal identifiers
ALLOWED = {
    "Bearer", "XLSX", "CSV", "PDF", "ZIP", "GIFT", "Aiken", "Moodle", "Markdown", "Excel", "YAML", "QR",
    "HTTPS", "URL", "ID", "OK", "Chromium", "WPS", "LibreOffice", "Word", "API", "JSON",
}
FILE_EXTENSIONS = ("xlsx", "csv", "pdf", "zip", "yaml", "yml", "md", "txt", "gift", "png", "jpg", "jpeg", "json")

_NOT_ASCII_WORD = r"A-Za-z0-9_\-"
#: word-word or snake_case (quiz-event-reporting, required_fields)
IDENTIFIER = re.compile(rf"(?<![{_NOT_ASCII_WORD}])[a-z]+(?:[-_][a-z0-9]+)+(?![{_NOT_ASCII_WORD}])")
#: dotted action codes (assignment.create), not file names
DOTTED = re.compile(rf"(?<![{_NOT_ASCII_WORD}.])[a-z]+(?:\.[a-z_]+)+(?![{_NOT_ASCII_WORD}.])")
#: key=value dumps (course=None)
ASSIGNMENT = re.compile(r"(?<![A-Za-z0-9_])[a-z_]+=\S*")
#: Python literals a template should never print
LITERAL = re.compile(r"(?<![A-Za-z0-9_])(?:None|True|False|null|undefined|NaN|nan)(?![A-Za-z0-9_])")
#: a lone lowercase word: an enum value or a key (county, valid, worker), not a file name's part
LOWER_WORD = re.compile(r"(?<![A-Za-z0-9_.\-/@])[a-z]{3,}(?![A-Za-z0-9_.\-])")
#: three or more English words in a row: a sentence or a message
ENGLISH = re.compile(r"(?<![A-Za-z])[A-Za-z][A-Za-z']+(?:[ ,]+[A-Za-z][A-Za-z']+){2,}(?![A-Za-z])")
URL = re.compile(r"https?://\S+")


class _GetForm:
    """A GET form being read: its action, its fields' values, and each select's first real choice."""

    def __init__(self, action: str):
        self.action = action
        self.fields: dict[str, str] = {}
        self.choices: dict[str, str] = {}
        self.select: str | None = None

    def urls(self) -> list[str]:
        """The form sent as it stands, then once per select with its first non-empty choice."""
        base = {k: v for k, v in self.fields.items() if v}
        urls = [self.action + "?" + urlencode(base)]
        for name, value in self.choices.items():
            if base.get(name) != value:
                urls.append(self.action + "?" + urlencode({**base, name: value}))
        return urls


class _TextAndLinks(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skip: list[str] = []
        self._form: _GetForm | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a":
            href = attributes.get("href")
            if href:
                self.links.append(href)
        self._form_field(tag, attributes)
        if tag in SKIPPED:
            self._skip.append(tag)
        elif tag not in VOID:
            self.parts.append(" ")

    def _form_field(self, tag, attributes):
        if tag == "form":
            method = (attributes.get("method") or "get").lower()
            self._form = _GetForm(attributes.get("action") or "") if method == "get" else None
        form = self._form
        if form is None:
            return
        name = attributes.get("name")
        if tag == "input" and name and (attributes.get("type") or "text") not in ("submit", "button", "file",
                                                                                  "checkbox", "radio", "image"):
            form.fields[name] = attributes.get("value") or ""
        elif tag == "select" and name:
            form.select = name
            form.fields.setdefault(name, "")
        elif tag == "option" and form.select:
            value = attributes.get("value") or ""
            if "selected" in attributes:
                form.fields[form.select] = value
            if value and form.select not in form.choices:
                form.choices[form.select] = value

    def handle_endtag(self, tag):
        if self._skip and tag == self._skip[-1]:
            self._skip.pop()
        if tag == "select" and self._form is not None:
            self._form.select = None
        if tag == "form" and self._form is not None:
            self.links += self._form.urls()
            self._form = None
        self.parts.append(" ")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def parse(html: str) -> tuple[str, list[str]]:
    """(visible text, links: hrefs of <a> elements and GET forms sent as they stand) of an HTML document."""
    parser = _TextAndLinks()
    parser.feed(html)
    parser.close()
    return re.sub(r"\s+", " ", "".join(parser.parts)).strip(), parser.links


def visible_text(html: str) -> str:
    return parse(html)[0]


def leaks(text: str, allowed_values: frozenset[str] = frozenset()) -> list[str]:
    """Internal identifiers, code dumps and English found in visible text (allowed_values: data such as 工号)."""
    text = URL.sub(" ", text)
    found: list[str] = []
    for pattern in (IDENTIFIER, ASSIGNMENT, LITERAL, LOWER_WORD):
        found += [m.group(0) for m in pattern.finditer(text) if m.group(0) not in allowed_values]
    for m in DOTTED.finditer(text):
        if m.group(0).rsplit(".", 1)[1] not in FILE_EXTENSIONS:
            found.append(m.group(0))
    for m in ENGLISH.finditer(text):
        words = [w for w in re.split(r"[ ,]+", m.group(0)) if w]
        if sum(w not in ALLOWED and w not in allowed_values for w in words) >= 3:
            found.append(m.group(0))
    return found


SKIP_PATHS = re.compile(
    r"(^/logout|^/exports/|^/static/|^/api/|^/sw\.js|download|/export|\.(pdf|xlsx|csv|zip|png|jpg|gift|yaml|txt)$"
    r"|/assets/|/verify/)", re.I)


def _shape(path: str, query: str) -> str:
    """Pages that differ only by ids or query values share a shape (one template)."""
    return re.sub(r"\d+", "N", path) + "?" + ",".join(sorted({k for k, _ in parse_qsl(query)}))


@dataclasses.dataclass
class Finding:
    url: str
    problem: str

    def __str__(self):
        return f"{self.url}: {self.problem}"


def crawl(client, start: list[str], *, allowed_values: frozenset[str] = frozenset(), limit: int = 300,
          per_shape: int = 3) -> tuple[list[str], list[Finding]]:
    """GET pages breadth-first from `start` (same origin, HTML only); return (visited, findings)."""
    queue, seen, visited, findings = list(start), set(start), [], []
    shapes: Counter = Counter()
    while queue and len(visited) < limit:
        url = queue.pop(0)
        response = client.get(url)
        if response.status_code >= 500:
            findings.append(Finding(url, f"HTTP {response.status_code}"))  # its menu still leads on
        if response.status_code in (301, 302, 303, 307, 308) or not response.mimetype == "text/html":
            continue
        visited.append(url)
        text, hrefs = parse(response.get_data(as_text=True))
        findings += [Finding(url, token) for token in dict.fromkeys(leaks(text, allowed_values))]
        for href in hrefs:
            href = urljoin(url, urldefrag(href)[0])
            parts = urlsplit(href)
            if parts.scheme not in ("", "http") or (parts.netloc and parts.netloc != "localhost"):
                continue
            if not parts.path.startswith("/") or SKIP_PATHS.search(parts.path):
                continue
            query = urlencode(sorted(parse_qsl(parts.query)))
            target = parts.path + ("?" + query if query else "")
            shape = _shape(parts.path, parts.query)
            if target in seen or shapes[shape] >= per_shape:
                continue
            seen.add(target)
            shapes[shape] += 1
            queue.append(target)
    return visited, findings
