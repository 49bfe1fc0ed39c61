"""Exam peak (DESIGN.md): a county's workers sit the 20-question `bench-exam` exam at once, time-compressed.

Usage: python bench/exam_peak.py [--database-url URL] [--workers 2000] [--compress 10] [--clients 64]
`make bench` (bench/run.py) runs the same scenario through run_exam_peak() on its county server.

In real time 2,000 workers start within 60 s, save 20 answers over 20 minutes
and submit within the last 60 s; `--compress 10` runs it in 6 s / 2 min / 6 s.
Every worker logs in BEFORE the timed window. A pool of client threads, each
with one keep-alive HTTPConnection, drives many simulated workers on a fixed
schedule. Afterwards the database is read directly: every attempt must hold
exactly the last answer sent per question and be submitted and graded once.
Targets: 0 errors, 0 lost answers, p99 ≤ 300 ms.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import (free_port, gunicorn_shape, login, prepare, sample_answer, start_server,  # noqa: E402  (path set above)
                       stop_server)

#: gunicorn's default keep-alive is 2 s; a connection idle longer than this is reopened before use
IDLE_REOPEN_S = 1.5
PHASES = ("start", "save", "submit")
#: pseudo statuses of requests that got no HTTP status
STATUS_NAMES = {0: "exception", -1: "skipped (its start failed)", -2: "dropped (run fell behind past --max-window)"}


def random_answer(question: dict, rng: random.Random):
    """A well-formed answer in the form the server stores (sorted letters, stripped texts), chosen at random."""
    kind = question["type"]
    keys = [option["key"] for option in question.get("options") or []]
    if kind == "single":
        return rng.choice(keys)
    if kind == "multiple":
        return sorted(rng.sample(keys, rng.randint(1, len(keys))))
    if kind == "judge":
        return rng.random() < 0.5
    # fill: as many texts as sample_answer finds blanks
    return [f"答案{rng.randrange(1000)}" for _ in sample_answer(question)]


class Client:
    """One client thread's keep-alive connection to the server, reopened when idle or closed by the server."""

    def __init__(self, port: int):
        self.port = port
        self.conn: http.client.HTTPConnection | None = None
        self.last_used = 0.0
        self.reopened = 0
        self.retries = 0

    def _open(self):
        if self.conn is not None:
            self.conn.close()
            self.reopened += 1
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def request(self, method: str, path: str, cookie: str, csrf: str, body=None) -> tuple[int, object]:
        """(status, parsed JSON or None); status 0 when the request failed with an exception."""
        data = json.dumps(body).encode() if body is not None else b""
        headers = {"Cookie": cookie, "X-CSRFToken": csrf, "Content-Type": "application/json",
                   "Content-Length": str(len(data)), "Accept": "application/json"}
        if self.conn is None or time.monotonic() - self.last_used > IDLE_REOPEN_S:
            self._open()
        for attempt in range(2):
            fresh = self.conn.sock is None
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                payload = response.read()
                self.last_used = time.monotonic()
                if response.will_close:
                    self._open()
                try:
                    parsed = json.loads(payload) if payload else None
                except ValueError:
                    parsed = None
                return response.status, parsed
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                # A reused keep-alive connection the server closed meanwhile: resend once on a new one,
                # as browsers do (start, save and submit are all idempotent).
                self._open()
                if fresh or attempt:
                    return 0, repr(exc)
                self.retries += 1
            except OSError as exc:
                self._open()
                return 0, repr(exc)
        return 0, "unreachable"


class Worker:
    """One simulated worker: session, schedule, attempt and what was sent."""

    def __init__(self, username: str, cookie: str, csrf: str):
        self.username, self.cookie, self.csrf = username, cookie, csrf
        self.attempt_id: int | None = None
        self.questions: list[dict] = []
        #: qid -> [answer, seq, status of the save]
        self.sent: dict[str, list] = {}
        self.submit_score = None


def schedule(workers: list[Worker], compress: float, rng: random.Random) -> list[tuple[float, str, Worker, int]]:
    """(time, phase, worker, index) events: starts in the first 60 s, 20 saves spread up to the submit in the last 60 s."""
    start_window, exam, submit_window = 60 / compress, 1200 / compress, 60 / compress
    events = []
    for worker in workers:
        started = rng.uniform(0, start_window)
        submitted = rng.uniform(exam - submit_window, exam)
        # Saves spread evenly (with jitter) between start and submit; the first one a little after the start.
        span = submitted - started
        times = sorted(started + span * (k + rng.uniform(0.2, 0.9)) / 21 for k in range(20))
        events.append((started, "start", worker, 0))
        events += [(t, "save", worker, k) for k, t in enumerate(times)]
        events.append((submitted, "submit", worker, 0))
    return events


#: the exam the peak sits: a copy of bench-20 nobody else in `make bench` starts (its verification counts attempts)
EXAM_QUIZ = "bench-exam"


def drive(port: int, events: list, t0: float, cutoff: float, records: list, rng: random.Random,
          quiz: str = EXAM_QUIZ) -> Client:
    """Run one client thread's events in time order; append (phase, scheduled, sent, latency, status) to records.

    Status -1: skipped because the worker's start failed; -2: dropped because
    the run fell so far behind that it passed ``cutoff`` (seconds after t0).
    """
    client = Client(port)
    for at, phase, worker, index in sorted(events, key=lambda e: e[0]):
        delay = t0 + at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if time.perf_counter() - t0 > cutoff:
            records.append((phase, at, time.perf_counter() - t0, 0.0, -2))
            continue
        if phase != "start" and worker.attempt_id is None:
            records.append((phase, at, time.perf_counter() - t0, 0.0, -1))  # its start failed: skipped
            continue
        sent = time.perf_counter()
        if phase == "start":
            status, reply = client.request("POST", f"/api/v1/quizzes/{quiz}/attempts", worker.cookie, worker.csrf)
            if status in (200, 201) and isinstance(reply, dict):
                worker.attempt_id = reply["id"]
                worker.questions = list(reply["questions"])
                rng.shuffle(worker.questions)  # workers answer in their own order
        elif phase == "save":
            question = worker.questions[index]
            answer, seq = random_answer(question, rng), index + 1
            status, _ = client.request("PUT", f"/api/v1/attempts/{worker.attempt_id}/answers/{question['qid']}",
                                       worker.cookie, worker.csrf, {"answer": answer, "seq": seq})
            worker.sent[question["qid"]] = [answer, seq, status]
        else:
            status, reply = client.request("POST", f"/api/v1/attempts/{worker.attempt_id}/submit",
                                           worker.cookie, worker.csrf)
            if status == 200 and isinstance(reply, dict):
                worker.submit_score = reply.get("score")
        done = time.perf_counter()
        records.append((phase, at, sent - t0, done - sent, status))
    if client.conn is not None:
        client.conn.close()
    return client


VERIFY_CODE = """
import json, sys
import sqlalchemy as sa
from lms import create_app
from lms.accounts.models import User
from lms.extensions import db
from lms.quizzes.models import Attempt, AttemptAnswer, AttemptStatus, Quiz

sent = json.load(open(sys.argv[1], encoding="utf-8"))
app = create_app()
with app.app_context():
    quiz_id = db.session.scalar(sa.select(Quiz.id).where(Quiz.code == sys.argv[2]))
    attempts = db.session.execute(sa.select(Attempt.id, User.username, Attempt.status, Attempt.submitted_at,
                                            Attempt.graded_at, Attempt.score, Attempt.marks)
                                  .join(User, User.id == Attempt.user_id).where(Attempt.quiz_id == quiz_id)).all()
    stored = {}
    for attempt_id, qid, answer, seq in db.session.execute(
            sa.select(AttemptAnswer.attempt_id, AttemptAnswer.qid, AttemptAnswer.answer, AttemptAnswer.seq)
            .join(Attempt, Attempt.id == AttemptAnswer.attempt_id).where(Attempt.quiz_id == quiz_id)):
        stored.setdefault(str(attempt_id), {})[qid] = [answer, seq]
out = {"attempts": len(attempts), "users_with_attempts": len({a.username for a in attempts}),
       "sent_answers": 0, "lost": 0, "mismatched": 0, "extra": 0, "lost_after_error": 0,
       "not_submitted": 0, "not_graded_once": 0, "score_differs": 0, "missing_attempts": 0}
by_id = {str(a.id): a for a in attempts}
for attempt_id, item in sent.items():
    attempt = by_id.get(attempt_id)
    if attempt is None or attempt.username != item["user"]:
        out["missing_attempts"] += 1
        continue
    have = stored.get(attempt_id, {})
    for qid, (answer, seq, status) in item["answers"].items():
        out["sent_answers"] += 1
        if qid not in have:
            out["lost"] += 1
            out["lost_after_error"] += not (200 <= status < 300)
        elif have[qid] != [answer, seq]:
            out["mismatched"] += 1
            out["lost_after_error"] += not (200 <= status < 300)
    out["extra"] += len(set(have) - set(item["answers"]))
    if attempt.status != AttemptStatus.submitted or attempt.submitted_at is None:
        out["not_submitted"] += 1
    # Grading sets graded_at in the same UPDATE as submitted_at, marks once per question.
    if (attempt.graded_at != attempt.submitted_at or attempt.score is None
            or len(attempt.marks or {}) != 20):
        out["not_graded_once"] += 1
    if item["score"] is not None and attempt.score != item["score"]:
        out["score_differs"] += 1
print(json.dumps(out))
"""


def verify(env: dict, workers: list[Worker], folder: Path, quiz: str = EXAM_QUIZ) -> dict:
    """Read the database: stored answers vs the last one sent per question, submitted and graded once."""
    sent = {str(w.attempt_id): {"user": w.username, "answers": w.sent, "score": w.submit_score}
            for w in workers if w.attempt_id is not None}
    path = folder / "sent.json"
    path.write_text(json.dumps(sent, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", VERIFY_CODE, str(path), quiz], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit("verification failed:\n" + done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def login_retrying(base: str, username: str, password: str, failures: list) -> tuple[str, str]:
    """login(), tried up to 3 times; each failure is kept (and reported: logins are not part of the window)."""
    for attempt in range(3):
        try:
            return login(base, username, password)
        except OSError as exc:  # urllib's HTTPError and connection errors
            failures.append(f"{username}: {exc}")
            if attempt == 2:
                raise
            time.sleep(1)
    raise AssertionError("unreachable")


def server_errors(log: Path) -> list[str]:
    """The last lines of each traceback gunicorn's workers wrote (the exception lines)."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return []
    return [line for line in lines if line and not line.startswith((" ", "Traceback", "[")) and ":" in line]


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (the gunicorn workers of a master)."""
    try:
        return [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                for c in (task / "children").read_text().split()]
    except OSError:
        return []


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def report(records: list, elapsed: float) -> list[str]:
    lines = ["| phase | requests | errors | p50 ms | p99 ms | max ms | achieved rate | planned rate | "
             "send lag p99 / max s |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for phase in PHASES + ("all",):
        rows = [r for r in records if phase == "all" or r[0] == phase]
        done = [r for r in rows if r[4] >= 0]
        latencies = [r[3] * 1000 for r in done]
        errors = sum(1 for r in rows if not 200 <= r[4] < 300)
        first = min(r[2] for r in done) if done else 0
        last = max(r[2] + r[3] for r in done) if done else 0
        planned_span = (max(r[1] for r in rows) - min(r[1] for r in rows)) if rows else 0
        lags = [r[2] - r[1] for r in done]
        lines.append(f"| {phase} | {len(rows)} | {errors} | {percentile(latencies, 50):.1f} | "
                     f"{percentile(latencies, 99):.1f} | {max(latencies, default=0):.1f} | "
                     f"{len(done) / max(last - first, 1e-9):.0f}/s | {len(rows) / max(planned_span, 1e-9):.0f}/s | "
                     f"{percentile(lags, 99):.2f} / {max(lags, default=0):.2f} |")
    return lines


def run_window(port: int, usernames: list[str], *, compress: float = 10, clients: int = 64, seed: int = 2026,
               max_window: float = 0, quiz: str = EXAM_QUIZ, server_log: Path | None = None,
               log=print) -> dict:
    """Log every worker in (untimed), then run the compressed exam against a live server on port.

    Returns what summarize() needs: records (phase, scheduled, sent, latency, status), workers, clients, loads.
    """
    from bench.generate import BENCH_PASSWORD

    rng = random.Random(seed)
    base = f"http://127.0.0.1:{port}"
    began = time.monotonic()
    login_failures: list[str] = []
    with ThreadPoolExecutor(8) as pool:
        sessions = list(pool.map(lambda u: (u, *login_retrying(base, u, BENCH_PASSWORD, login_failures)),
                                 usernames))
    login_s = time.monotonic() - began
    log(f"logins: {len(sessions)} in {login_s:.1f} s ({len(sessions) / login_s:.1f}/s), "
        f"before the timed window; failed tries (then retried): {len(login_failures)}")
    for line in login_failures[:5] + (server_errors(server_log)[:5] if server_log else []):
        log(f"    {line}")
    workers = [Worker(*s) for s in sessions]
    events = schedule(workers, compress, rng)
    # Each worker's events stay on one client thread, so its saves follow its start in order.
    per_client: list[list] = [[] for _ in range(clients)]
    slot = {id(w): i % clients for i, w in enumerate(workers)}
    for event in events:
        per_client[slot[id(event[2])]].append(event)
    records_per_client: list[list] = [[] for _ in range(clients)]
    client_objs: list[Client] = [None] * clients
    cutoff = max_window or 2 * 1200 / compress
    t0 = time.perf_counter() + 1.0

    def run(i: int):
        client_objs[i] = drive(port, per_client[i], t0, cutoff, records_per_client[i], random.Random(seed + i), quiz)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    load_before = os.getloadavg()
    for thread in threads:
        thread.start()
    last_print = time.perf_counter()
    while any(thread.is_alive() for thread in threads):
        threads[0].join(timeout=1) if threads[0].is_alive() else time.sleep(1)
        if time.perf_counter() - last_print >= 15:
            last_print = time.perf_counter()
            done = [r for rs in records_per_client for r in list(rs)]
            recent = sorted(r[3] for r in done if r[4] >= 0 and r[2] + r[3] > last_print - t0 - 15)
            log(f"  t={last_print - t0:5.0f} s: {sum(1 for r in done if r[4] >= 0)} sent, "
                f"{sum(1 for r in done if not 200 <= r[4] < 300)} errors, last 15 s: {len(recent)} done, "
                f"p99 {percentile(recent, 99) * 1000:.0f} ms, load {os.getloadavg()[0]:.2f}")
    return {"records": [r for rs in records_per_client for r in rs], "workers": workers, "clients": client_objs,
            "elapsed": time.perf_counter() - t0, "load_before": load_before, "load_after": os.getloadavg(),
            "compress": compress, "n_clients": clients, "expected": len(usernames)}


def summarize(window: dict, checks: dict, db_kind: str, errors_logged: list[str]) -> dict:
    """The report lines and the verdict of one run: {"lines", "ok", "p99", "errors", "lost", "rate", ...}."""
    records, compress = window["records"], window["compress"]
    errors = sum(1 for r in records if not 200 <= r[4] < 300)
    statuses: dict = {}
    for r in records:
        statuses[r[4]] = statuses.get(r[4], 0) + 1
    lines = [f"Exam peak, {db_kind}: {window['expected']} workers, {compress:g}× compressed "
             f"(starts in {60 / compress:g} s, saves over {1200 / compress:g} s, submits in the last "
             f"{60 / compress:g} s); {gunicorn_shape()}; {window['n_clients']} client threads "
             f"with keep-alive connections; {os.cpu_count()} cores",
             f"load average before/after the window: {window['load_before'][0]:.2f} / {window['load_after'][0]:.2f}; "
             f"window took {window['elapsed']:.1f} s",
             f"requests planned: {len(records)} · sent: {sum(1 for r in records if r[4] >= 0)} · errors (non-2xx, exceptions, skipped, dropped): {errors} · statuses: "
             + ", ".join(f"{STATUS_NAMES.get(k, k)}={v}" for k, v in sorted(statuses.items())),
             f"connections reopened: {sum(c.reopened for c in window['clients'] if c)} · resent after a keep-alive "
             f"close: {sum(c.retries for c in window['clients'] if c)}",
             "", *report(records, window["elapsed"]), "",
             f"answers sent: {checks['sent_answers']} · lost: {checks['lost']} · mismatched: {checks['mismatched']} "
             f"(of those after a failed save: {checks['lost_after_error']}) · stored but never sent: {checks['extra']}",
             f"attempts: {checks['attempts']} for {checks['users_with_attempts']} workers · missing: "
             f"{checks['missing_attempts']} · not submitted: {checks['not_submitted']} · not graded exactly once: "
             f"{checks['not_graded_once']} · score differs from the submit reply: {checks['score_differs']}"]
    if errors_logged:
        distinct = sorted(set(errors_logged), key=errors_logged.index)
        lines.append(f"server tracebacks: {len(errors_logged)}; distinct: " + " | ".join(distinct[:5]))
    done = [r for r in records if r[4] >= 0]
    latencies = [r[3] * 1000 for r in done]
    p99 = percentile(latencies, 99)
    lost = checks["lost"] + checks["mismatched"]
    ok = (errors == 0 and lost == 0 and checks["extra"] == 0
          and checks["not_submitted"] == 0 and checks["not_graded_once"] == 0 and checks["missing_attempts"] == 0
          and checks["attempts"] == window["expected"] and p99 <= 300)
    lines.append(f"target (0 errors, 0 lost answers, every attempt submitted once, p99 ≤ 300 ms): "
                 f"{'met ✓' if ok else 'NOT met ✗'}")
    first = min((r[2] for r in done), default=0)
    last = max((r[2] + r[3] for r in done), default=0)
    return {"lines": lines, "ok": ok, "p99": p99, "errors": errors, "lost": lost, "requests": len(records),
            "rate": len(done) / max(last - first, 1e-9), "checks": checks, "load_before": window["load_before"][0],
            "load_after": window["load_after"][0]}


def run_exam_peak(env: dict, port: int, usernames: list[str], folder: Path, *, db_kind: str,
                  server_log: Path | None = None, log=print, **options) -> dict:
    """The whole scenario against a server already serving the county on port: window, verification, summary."""
    window = run_window(port, usernames, server_log=server_log, log=log, **options)
    checks = verify(env, window["workers"], folder, options.get("quiz", EXAM_QUIZ))
    return summarize(window, checks, db_kind, server_errors(server_log) if server_log else [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an EMPTY database (default: SQLite in a temporary folder)")
    parser.add_argument("--workers", type=int, default=2000)
    parser.add_argument("--compress", type=float, default=10, help="time compression of the 20-minute exam")
    parser.add_argument("--clients", type=int, default=64, help="client threads, one keep-alive connection each")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--max-window", type=float, default=0,
                        help="drop requests not sent this many seconds into the window (default: twice the "
                             "compressed exam), so an overloaded server cannot stretch the run without bound")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {**os.environ, "LMS_SECRET_KEY": "bench", "LMS_IDLE_TIMEOUT_MINUTES": "120",
               "LMS_SQLALCHEMY_DATABASE_URI": args.database_url or f"sqlite:///{folder}/bench.sqlite3"}
        env.pop("LMS_TEST_DATABASE_URL", None)
        began = time.monotonic()
        usernames = prepare(env, args.workers, folder, attempts=10 * args.workers)  # the county's 10 per worker
        print(f"data: {len(usernames)} workers in {time.monotonic() - began:.1f} s", flush=True)
        port = free_port()
        server_log = folder / "gunicorn-stderr.log"
        server = start_server(env, port, log=server_log)
        try:
            window = run_window(port, usernames, compress=args.compress, clients=args.clients, seed=args.seed,
                                max_window=args.max_window, server_log=server_log,
                                log=lambda line: print(line, flush=True))
        finally:
            stop_server(server)
        checks = verify(env, window["workers"], folder)
        result = summarize(window, checks, "PostgreSQL" if args.database_url else "SQLite", server_errors(server_log))
    print("\n" + "\n".join(result["lines"]))


if __name__ == "__main__":
    main()
