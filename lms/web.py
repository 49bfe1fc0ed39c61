"""Cross-cutting web behaviour: security headers, write intent, template helpers."""
from __future__ import annotations

import hashlib
import json
import os
import re

from flask import Flask, current_app, g, has_request_context, render_template, request, url_for

from lms.db import local, reset_reads_first, reset_write_intent, set_reads_first, set_write_intent
from lms.errors import LMSError

#: the app shell the service worker installs (paths under static/)
#: (no Bootstrap JS: no page loads it; app.js opens the phone menu itself)
SHELL_FILES = ["vendor/bootstrap/bootstrap.min.css", "css/app.css", "js/app.js", "icons/icon-192.png"]

#: endpoints whose successful GET responses the service worker may keep for the signed-in user
_OFFLINE_ENDPOINTS: set[str] = set()


_READS_FIRST: set[str] = set()


def reads_first(*endpoints: str) -> None:
    """Unsafe-method endpoints that read before they write and call lms.db.begin_writing() before writing:
    their requests start without SQLite's write lock."""
    _READS_FIRST.update(endpoints)


def offline_capable(*endpoints: str) -> None:
    """Let the service worker keep these pages (per user, served offline only with a live session marker)."""
    _OFFLINE_ENDPOINTS.update(endpoints)


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

#: (lower-case name, name, value) set on every response that has none of its own
_DEFAULT_HEADERS = tuple((name.lower(), name, value) for name, value in (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "geolocation=(), microphone=()"),
))


#: the highest ?page= any list accepts: a million pages is past every real list, and keeps OFFSET a sane integer
MAX_PAGE = 1_000_000
#: years a date parameter may name; outside them date arithmetic overflows and no record exists anyway
MIN_YEAR, MAX_YEAR = 1900, 2100
#: date parameters of the list and statistics routes, with the label a refusal names
DATE_PARAMETERS = {"from": "起始日期", "to": "截止日期", "issued_from": "发证日期（起）", "issued_to": "发证日期（止）",
                   "date": "日期", "since": "起始日期", "until": "截止日期"}
_LEADING_INTEGER = re.compile(r"\s*([+-]?)\s*(\d+)\s*$")
_DATE_YEAR = re.compile(r"\s*([+-]?\d+)-")


class InvalidParameter(LMSError):
    """A query parameter out of the range any list accepts (400, never a 500 further down)."""

    status = 400
    code = "invalid_parameter"


def check_parameters(args) -> None:
    """400 invalid_parameter when ?page= is below 1 or beyond MAX_PAGE, or a date parameter is outside 1900–2100.

    Run before every request, so every list route (HTML and JSON) refuses the same way; malformed values
    (page=abc, from=yesterday) are left to each route's own parser and message.
    """
    page = args.get("page")
    if page:
        match = _LEADING_INTEGER.fullmatch(page)
        digits = match.group(2).lstrip("0") if match else ""
        if digits and (match.group(1) == "-" or len(digits) > 7 or int(digits) > MAX_PAGE):
            raise InvalidParameter(f"页码超出范围：应为 1 到 {MAX_PAGE} 之间的整数", details={"parameter": "page"})
    for name, label in DATE_PARAMETERS.items():
        value = args.get(name)
        match = _DATE_YEAR.match(value) if value else None
        if match and not MIN_YEAR <= int(match.group(1)[:6]) <= MAX_YEAR:
            raise InvalidParameter(f"{label}超出范围：应在 {MIN_YEAR}-01-01 至 {MAX_YEAR}-12-31 之间",
                                   details={"parameter": name})


def page_number() -> int:
    """The ?page= of an HTML list: 1 when absent or not a whole number; 400 when out of range (see check_parameters)."""
    try:
        page = int(request.args.get("page", 1))
    except ValueError:
        return 1
    if not 1 <= page <= MAX_PAGE:
        check_parameters({"page": str(page)})  # negative or too far: refused
        return 1  # 0 is read as the first page, as before
    return page


def client_addr() -> str:
    """The client's address; ProxyFix has already applied the trusted proxies."""
    return request.remote_addr or "unknown"


def _static_versions(app: Flask):
    """Content hash per static file (cached by mtime), appended as ?v= so browsers may keep files a year."""
    cache: dict[str, tuple[float, str]] = {}

    def version(filename: str) -> str | None:
        path = os.path.join(app.static_folder, filename)
        try:
            mtime = os.path.getmtime(path)
        except OSError:
            return None
        cached = cache.get(filename)
        if cached and cached[0] == mtime:
            return cached[1]
        with open(path, "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()[:12]
        cache[filename] = (mtime, digest)
        return digest

    return version


def _memoised_url_for(app: Flask, max_entries: int = 4096):
    """url_for for templates, remembered per process: building a URL cost more than the rest of a page.

    A page builds some twenty URLs (navigation, static files, links) that never change while the app runs:
    the routes are fixed and static files change only with a deployment, which restarts the workers.
    Only plain relative URLs are remembered (no _external/_anchor/..., no blueprint-relative endpoint),
    keyed by the request's script root; in debug or template auto-reload mode nothing is.
    """
    cache: dict[tuple, str] = {}
    build = app.url_for

    def cached_url_for(endpoint: str, **values) -> str:
        if app.debug or app.jinja_env.auto_reload or endpoint[:1] == "." or not has_request_context():
            return build(endpoint, **values)
        key = (request.script_root, endpoint, *values.items())
        try:
            url = cache.get(key)
        except TypeError:  # an unhashable value
            return build(endpoint, **values)
        if url is None:
            url = build(endpoint, **values)
            if not any(name[:1] == "_" for name in values):  # never _external, _anchor, _scheme, ...
                if len(cache) >= max_entries:
                    cache.clear()
                cache[key] = url
        return url

    return cached_url_for


def cached_url(endpoint: str, **values) -> str:
    """url_for remembered per process, as templates' url_for is (see _memoised_url_for)."""
    return current_app.extensions["lms.url_for"](endpoint, **values)


def init_app(app: Flask) -> None:
    static_version = _static_versions(app)
    app.extensions["lms.url_for"] = app.jinja_env.globals["url_for"] = _memoised_url_for(app)

    @app.url_defaults
    def _version_static_urls(endpoint, values):
        if endpoint == "static" and "v" not in values and "filename" in values:
            digest = static_version(values["filename"])
            if digest:
                values["v"] = digest

    def _static_max_age(filename):
        # Versioned URLs change whenever the file does: cache them for a year on slow village links.
        return 31536000 if request.args.get("v") else 0

    app.get_send_file_max_age = _static_max_age
    @app.before_request
    def _write_intent():
        unsafe = request.method in UNSAFE_METHODS
        reads_first = unsafe and request.endpoint in _READS_FIRST
        g._write_token = set_write_intent(unsafe and not reads_first)
        g._reads_first_token = set_reads_first(reads_first)

    @app.before_request
    def _check_parameters():
        # Only requests with a query string pay for parsing it (most page loads have none).
        if request.query_string:
            check_parameters(request.args)

    @app.teardown_request
    def _reset_write_intent(exc):
        # Worker threads serve request after request: a POST must not leave GETs writing.
        token = g.pop("_write_token", None)
        if token is not None:
            reset_write_intent(token)
        token = g.pop("_reads_first_token", None)
        if token is not None:
            reset_reads_first(token)

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        # Each header only where the view did not set its own (Headers.setdefault raises and catches a
        # KeyError per missing header: one set of the names present is cheaper on every response).
        present = {name.lower() for name, _ in headers}
        if ("x-lms-offline" not in present and request.method == "GET" and response.status_code == 200
                and request.endpoint in _OFFLINE_ENDPOINTS):
            headers.add("X-LMS-Offline", "page")
        for lower, name, value in _DEFAULT_HEADERS:
            if lower not in present:
                headers.add(name, value)
        if request.is_secure and "strict-transport-security" not in present:
            headers.add("Strict-Transport-Security", "max-age=31536000")
        if "cache-control" not in present and response.mimetype in ("text/html", "application/json"):
            # Personal pages must not linger in a shared tablet's HTTP cache.
            headers["Cache-Control"] = "no-store"
        return response

    @app.get("/sw.js")
    def service_worker():
        # Served from the root so its scope covers the whole app; the shell list carries
        # versioned URLs, so a changed CSS/JS file installs a new worker.
        shell = [url_for("static", filename=name) for name in SHELL_FILES] + [url_for("offline")]
        with open(os.path.join(app.static_folder, "js", "sw.js"), encoding="utf-8") as handle:
            source = handle.read()
        version = hashlib.sha256(json.dumps(shell).encode()).hexdigest()[:12]
        body = source.replace("__VERSION__", version).replace("__SHELL__", json.dumps(shell))
        return body, 200, {"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache",
                           "Service-Worker-Allowed": "/"}

    @app.get("/offline")
    def offline():
        # Public and personal-data free: what the service worker shows when nothing cached fits.
        return render_template("offline.html")

    @app.get("/manifest.webmanifest")
    def manifest():
        response = app.send_static_file("manifest.webmanifest")
        response.mimetype = "application/manifest+json"
        return response

    @app.get("/healthz")
    def healthz():
        # The bare route: load balancers probe it and benchmarks divide by it. No database.
        return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}

    @app.template_filter("localtime")
    def _localtime(value, fmt="%Y-%m-%d %H:%M"):
        return local(value).strftime(fmt) if value else ""

    if app.config.get("SESSION_COOKIE_SECURE") is False and app.config.get("PUBLIC_URL", "").startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
