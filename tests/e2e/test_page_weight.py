"""DESIGN.md's page-weight budget measured on the wire: "after the first visit a lesson page costs ≤ 150 KB".

The browser talks to the county server through a byte-counting relay, so every byte counts whoever asked for
it: the page, its scripts and images, and the service worker (installing the app shell, fetching pages for
its cache) — DevTools-style per-page counters miss the worker's own requests. For each worker page:
- first load: the first visit on a fresh tablet (empty caches, no service worker; signed in through the
  API so no other page was loaded before), until the service worker controls the page and the line is quiet;
- repeat load: the same page opened again, with the service worker's cache in place.
The budget is applied to every worker page's repeat load. The table is printed (pytest -s) and written to
test-artifacts/page-weight.txt.
"""
from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.e2e.conftest import ARTIFACTS, DEMO_PASSWORD, wait_until
from tests.e2e.test_drill import CODE as DRILL

pytestmark = pytest.mark.e2e

BUDGET_KB = 150  # DESIGN.md, "Tablet, village and intranet realities"
USER = "worker4"
LESSON = "/courses/county-event-reporting/lessons/grid-app"  # the lesson with a picture in it
QUIZ = "quiz-event-reporting"


class WireMeter:
    """A TCP relay in front of a server that counts the bytes going each way."""

    def __init__(self, upstream_port: int):
        self._upstream = ("127.0.0.1", upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self.down = self.up = 0
        self._last = time.monotonic()
        self._start(self._accept)

    def _start(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(self._upstream)
            with self._lock:
                self._sockets += [client, upstream]
            self._start(self._pump, client, upstream, False)
            self._start(self._pump, upstream, client, True)

    def _pump(self, source: socket.socket, target: socket.socket, downstream: bool) -> None:
        try:
            while chunk := source.recv(65536):
                with self._lock:
                    if downstream:
                        self.down += len(chunk)
                    else:
                        self.up += len(chunk)
                    self._last = time.monotonic()
                target.sendall(chunk)
        except OSError:
            pass
        for sock in (source, target):  # one side finished: end the other too
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def take(self) -> tuple[int, int]:
        """(bytes the server sent, bytes the browser sent) since the last take; the counters restart."""
        with self._lock:
            counts = (self.down, self.up)
            self.down = self.up = 0
        return counts

    def wait_quiet(self, page, quiet: float = 0.75, timeout: float = 20) -> None:
        """Until no byte has crossed for `quiet` seconds (late fetches of the page and its service worker)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() - self._last < quiet:
            assert time.monotonic() < deadline, "the line never went quiet"
            page.wait_for_timeout(100)

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        for thread in self._threads:
            thread.join(timeout=5)


@pytest.fixture(scope="module")
def meter(county_server):
    relay = WireMeter(county_server.port)
    yield relay
    relay.close()


def _open_attempt(browser, base) -> str:
    """The worker's open attempt of the course quiz (the answering page is one of the pages measured)."""
    context = browser.new_context()
    try:
        session = context.request.post(base + "/api/v1/session", data={"username": USER, "password": DEMO_PASSWORD})
        assert session.ok, session.text()
        started = context.request.post(f"{base}/api/v1/quizzes/{QUIZ}/attempts",
                                       headers={"X-CSRFToken": session.json()["csrf_token"]})
        assert started.status in (200, 201), started.text()
        return f"/attempts/{started.json()['id']}"
    finally:
        context.close()


def _measure(browser, meter, path: str, signed_in: bool) -> tuple[int, int]:
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
    try:
        if signed_in:
            answer = context.request.post(meter.base + "/api/v1/session",
                                          data={"username": USER, "password": DEMO_PASSWORD})
            assert answer.ok, answer.text()
        page = context.new_page()
        loads = []
        for _ in range(2):
            meter.wait_quiet(page)
            meter.take()
            response = page.goto(meter.base + path, wait_until="networkidle")
            assert response.ok and page.url == meter.base + path, (path, page.url)
            wait_until(page, "navigator.serviceWorker.controller !== null")
            meter.wait_quiet(page)
            loads.append(meter.take()[0])
        return loads[0], loads[1]
    finally:
        context.close()


def test_worker_pages_stay_within_the_page_weight_budget(county_server, meter, browser):
    pages = [("login", "/login", False), ("home", "/", True), ("my learning", "/learning", True),
             ("lesson", LESSON, True), ("quiz (answering)", _open_attempt(browser, county_server.base), True),
             ("drill form", f"/drills/{DRILL}", True)]
    rows = [(label, path, *_measure(browser, meter, path, signed_in)) for label, path, signed_in in pages]

    kb = lambda n: f"{n / 1024:.1f}"  # noqa: E731
    lines = ["Page weight on the wire (bytes the server sent, headers included; no compression configured),",
             f"768x1024, user {USER}; budget: repeat load <= {BUDGET_KB} KB (DESIGN.md).",
             "first = first visit on a fresh tablet, incl. the service worker installing the app shell;",
             "repeat = the same page opened again with the service worker's cache.", "",
             f"{'page':<18} {'first KB':>9} {'repeat KB':>10}  path"]
    lines += [f"{label:<18} {kb(first):>9} {kb(repeat):>10}  {path}" for label, path, first, repeat in rows]
    table = "\n".join(lines) + "\n"
    print("\n" + table)
    ARTIFACTS.parent.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS.parent / "page-weight.txt").write_text(table, encoding="utf-8")

    over = [f"{label}: {kb(repeat)} KB" for label, _, _, repeat in rows if repeat > BUDGET_KB * 1024]
    assert over == [], f"over the {BUDGET_KB} KB budget after the first visit: {over}"
    # The cache is what keeps repeat visits light: a repeat load costs less than the first.
    assert all(repeat < first for _, _, first, repeat in rows), rows
