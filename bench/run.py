"""`make bench`: county-scale data, a live gunicorn, wrk against each route, ratios to the bare route.

Usage: python bench/run.py [--database-url EMPTY-DB-URL | --pg] [--workers 2000] [--courses 30] [--questions 2000]
                           [--attempts 20000] [--duration 10] [--connections 32] [--only lesson,catalog]
                           [--skip-long] [--warmup 1] [--bare-each-row] [--gunicorn-workers 2] [--gunicorn-threads 4]
Generates the county of issue #8 (2,000 workers, 30 courses, 2,000 questions, 20,000 graded attempts), serves it
with gunicorn and measures every row of DESIGN.md's targets on it: the learner pages and the autosave with wrk,
quiz submits, logins, the exam peak (bench/exam_peak.py, its own quiz), the 100,000-row certificate export
(bench/export_bench_routes.py, certificates added to the same database) and, on SQLite, the content import.
Prints one table (rps, ratio to /healthz in the same run, p99, load average) and writes it to bench/last-run.md.
--only runs the bare row and the rows whose names contain one of the words (e.g. `--only lesson,exam`);
--skip-long leaves out the exam peak and the export (a few minutes together).
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


BENCH_QUIZ = """code: {code}
title: 基准测试用测验（20 题）
org: HX
draw:
  - {{bank: grid-duties, count: 20}}
time_limit_minutes: 600
pass_score: 60
shuffle_options: true
"""


def bench_content(folder: Path, courses: int = 30, questions: int = 2000) -> tuple[Path, Path, dict]:
    """Copies of the shipped courses and question bank, topped up to the county's counts, plus two 20-question
    quizzes with no attempt limit: bench-20 (the autosave and submit rows) and bench-exam (the exam peak)."""
    from bench.generate import write_county_content

    courses_dir, questions_dir = folder / "courses", folder / "question_bank"
    shutil.copytree(ROOT / "courses", courses_dir)
    shutil.copytree(ROOT / "question_bank", questions_dir)
    for code in ("bench-20", "bench-exam"):
        (questions_dir / "quizzes" / f"{code}.yaml").write_text(BENCH_QUIZ.format(code=code), encoding="utf-8")
    return courses_dir, questions_dir, write_county_content(courses_dir, questions_dir, courses, questions)


def assign_courses(due_in_days: int = 30) -> int:
    """Every published course assigned to the whole demo county, so my-learning and home show real cards."""
    import datetime as dt

    import sqlalchemy as sa

    from lms.courses.models import Assignment, Course
    from lms.db import utcnow
    from lms.extensions import db
    from lms.org.queries import get_org

    county, now = get_org("HX"), utcnow()
    courses = list(db.session.scalars(sa.select(Course).where(Course.is_published)))
    for course in courses:
        db.session.add(Assignment(course=course, org=county, due_on=now.date() + dt.timedelta(days=due_in_days),
                                  created_at=now))
    db.session.commit()
    return len(courses)


GENERATE_CODE = """
import json, random, sys, time
import sqlalchemy as sa
from lms.extensions import db
from lms import create_app
from bench.generate import generate, generate_attempts
from bench.run import assign_courses
workers, attempts = int(sys.argv[1]), int(sys.argv[2])
app = create_app()
with app.app_context():
    began = time.perf_counter()
    users = generate(workers)
    made = time.perf_counter()
    count = generate_attempts(attempts, random.Random(11))
    attempted = time.perf_counter()
    assigned = assign_courses()
    if db.engine.dialect.name == "postgresql":
        # Planner statistics for the bulk-loaded tables, as autovacuum keeps them on a live server.
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    print(json.dumps({"users": users, "attempts": count, "assigned": assigned, "seconds": {
        "workers": made - began, "attempts": attempted - made, "assignments": time.perf_counter() - attempted}}))
"""


def prepare(env: dict, workers: int, folder: Path, *, courses: int = 30, questions: int = 2000,
            attempts: int = 20000, log=lambda line: print(line, flush=True)) -> list[str]:
    """Migrate, demo org, county content imported, workers and graded attempts generated; logs what took how long.

    Returns the generated workers' usernames (all with BENCH_PASSWORD)."""
    flask = [sys.executable, "-m", "flask", "--app", "lms"]
    courses_dir, questions_dir, content = bench_content(folder, courses, questions)
    seconds = {}
    for name, args in (("migrate", ["db", "upgrade"]), ("demo", ["demo"]),
                       ("content import", ["content", "import", "--courses", str(courses_dir),
                                           "--questions", str(questions_dir)])):
        started = time.perf_counter()
        done = subprocess.run(flask + args, env=env, cwd=ROOT, capture_output=True, text=True)
        seconds[name] = time.perf_counter() - started
        if done.returncode:
            raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    done = subprocess.run([sys.executable, "-c", GENERATE_CODE, str(workers), str(attempts)], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit("data generation failed:\n" + done.stderr[-3000:])
    made = json.loads(done.stdout.strip().splitlines()[-1])
    seconds.update(made["seconds"])
    log(f"data: {len(made['users']):,} workers, {content['courses']} courses ({content['generated_courses']} "
        f"generated with {content['generated_lessons']} lessons; {made['assigned']} assigned to the county), "
        f"{content['questions']:,} questions ({content['generated_questions']:,} generated), "
        f"{made['attempts']:,} graded attempts — " + ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))
    return made["users"]


#: the deployment's own settings (the systemd unit and `make serve` start from them too)
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"


def gunicorn_shape(workers: int | None = None, threads: int | None = None) -> str:
    """How the benchmarked gunicorn runs, for the tables: deploy/gunicorn.conf.py unless overridden."""
    conf: dict = {}
    exec(GUNICORN_CONF.read_text(encoding="utf-8"), conf)
    workers = workers or conf["workers"]
    threads = threads or conf.get("threads", 1)
    sync = threads == 1 and conf.get("worker_class", "sync") == "sync"
    kind = f"{workers} sync workers" if sync else f"{workers} workers × {threads} thread{'s' if threads > 1 else ''}"
    return f"gunicorn {kind} ({'deploy/gunicorn.conf.py' if (workers, threads) == (conf['workers'], conf.get('threads', 1)) else 'overridden'})"


def start_server(env: dict, port: int, workers: int | None = None, threads: int | None = None,
                 log: Path | None = None) -> subprocess.Popen:
    """gunicorn with deploy/gunicorn.conf.py (workers/threads overridden when given) serving the app on port;
    its stderr (tracebacks) kept in ``log`` when given."""
    shape = (["--workers", str(workers)] if workers else []) + (["--threads", str(threads)] if threads else [])
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), *shape,
         "--bind", f"127.0.0.1:{port}", "lms:create_app()"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("ab") if log else subprocess.DEVNULL)
    return wait_until_serving(server, port)


def stop_server(server: subprocess.Popen) -> None:
    """SIGTERM; workers still busy with queued requests after 30 s are killed (and said so)."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        print("gunicorn did not stop within 30 s of SIGTERM (requests still queued): killed", flush=True)
        for task in Path(f"/proc/{server.pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                os.kill(int(child), 9)
        server.kill()
        server.wait()


def wait_until_serving(server: subprocess.Popen, port: int) -> subprocess.Popen:
    """The server once /healthz answers (up to 30 s); killed and the run stopped if it never does."""
    for _ in range(150):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def server_cpu_seconds(master_pid: int) -> float:
    """CPU time (user + system) used so far by gunicorn's master and workers, from /proc (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after the command: state, ppid, ..., utime (field 14) and stime (15) of the whole line
        if int(entry) == master_pid or int(fields[1]) == master_pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def login(base: str, username: str, password: str) -> tuple[str, str]:
    """Session cookie and CSRF token of one worker."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    request = urllib.request.Request(base + "/api/v1/session", method="POST",
                                     data=json.dumps({"username": username, "password": password}).encode(),
                                     headers={"Content-Type": "application/json"})
    with opener.open(request) as response:
        csrf = json.load(response)["csrf_token"]
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookie, csrf


def call(base: str, method: str, path: str, cookie: str, csrf: str = "", body=None):
    """One JSON request as a logged-in worker; returns (status, parsed body)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, method=method, data=data, headers={
        "Cookie": cookie, "X-CSRFToken": csrf, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, None


def sample_answer(question: dict):
    """Some well-formed answer for a question of any type (correctness does not matter here)."""
    kind = question["type"]
    if kind == "single":
        return question["options"][0]["key"]
    if kind == "multiple":
        return [question["options"][0]["key"]]
    if kind == "judge":
        return True
    blanks = max(1, len(re.findall(r"_{4,}|（\s*）|\(\s*\)", question["stem"])))
    return ["答案"] * blanks


def run_wrk(base: str, specs: list[tuple], *, connections: int, duration: int, server_pid: int | None = None) -> dict:
    cpu_before = server_cpu_seconds(server_pid) if server_pid else None
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as handle:
        for spec in specs:
            handle.write("\t".join(spec) + "\n")
        spec_file = handle.name
    try:
        done = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
                               "-s", str(ROOT / "bench" / "wrk_rotate.lua"), base],
                              env={**os.environ, "WRK_SPECS": spec_file}, capture_output=True, text=True)
    finally:
        os.unlink(spec_file)
    match = re.search(r"RESULT rps=([\d.]+) p50=([\d.]+) p99=([\d.]+) errors=(\d+) non2xx=(\d+) requests=(\d+)",
                      done.stdout)
    if not match:
        raise SystemExit("wrk failed:\n" + done.stdout + done.stderr)
    rps, p50, p99, errors, non2xx, requests = match.groups()
    result = {"rps": float(rps), "p50": float(p50), "p99": float(p99), "errors": int(errors) + int(non2xx),
              "requests": int(requests), "cpu_ms": None}
    if cpu_before is not None and int(requests):
        # Server CPU per request barely depends on what else runs on the machine, unlike rps.
        result["cpu_ms"] = (server_cpu_seconds(server_pid) - cpu_before) * 1000 / int(requests)
    return result


def lesson_specs(ctx):
    cookie = ctx["sessions"][0][0]
    _, course = call(ctx["base"], "GET", "/api/v1/courses/county-grid-duties", cookie)
    slugs = [lesson["slug"] for lesson in course["lessons"]]
    return [("GET", f"/courses/county-grid-duties/lessons/{slugs[i % len(slugs)]}", c, "", "")
            for i, (c, _) in enumerate(ctx["sessions"])]


def autosave_specs(ctx):
    specs = []
    for cookie, csrf in ctx["sessions"]:
        status, attempt = call(ctx["base"], "POST", "/api/v1/quizzes/bench-20/attempts", cookie, csrf)
        if status not in (200, 201):
            raise SystemExit(f"starting an attempt failed: {status}")
        for question in attempt["questions"]:
            body = json.dumps({"answer": sample_answer(question), "seq": 0}).replace('"seq": 0', '"seq": {seq}')
            specs.append(("PUT", f"/api/v1/attempts/{attempt['id']}/answers/{question['qid']}", cookie, csrf, body))
    return specs


def progress_specs(ctx):
    """The progress page of one county course as the demo hr (bench/progress_bench.py made the progress)."""
    from bench.progress_bench import PAGE
    from lms.accounts.demo import DEMO_PASSWORD

    cookie, _ = login(ctx["base"], "hr", DEMO_PASSWORD)
    return [("GET", PAGE, cookie, "", "")]


#: rows: name, target ratio (or None), fn(ctx) -> list of specs (method, path, cookie, csrf, body)
ROWS: list[tuple] = [
    ("bare /healthz", None, lambda ctx: [("GET", "/healthz", "", "", "")]),
    ("authenticated lesson page", 0.25, lesson_specs),
    ("catalog page /courses", 0.20, lambda ctx: [("GET", "/courses", c, "", "") for c, _ in ctx["sessions"]]),
    ("my-learning page /learning", 0.20, lambda ctx: [("GET", "/learning", c, "", "") for c, _ in ctx["sessions"]]),
    ("worker home page", 0.20, lambda ctx: [("GET", "/", c, "", "") for c, _ in ctx["sessions"]]),
    ("quiz answer autosave (PUT)", 0.15, autosave_specs),
    # no ratio target: DESIGN.md sets its latency (≤ 300 ms), measured by the "progress export" row's lone client
    ("progress page, one course of the county (hr)", None, progress_specs),
]


def bench_submits(base: str, sessions: list[tuple[str, str]]) -> dict:
    """Submit one fully answered 20-question attempt per worker, 8 at a time; and /healthz the same way."""
    def ready(session):
        cookie, csrf = session
        _, attempt = call(base, "POST", "/api/v1/quizzes/bench-20/attempts", cookie, csrf)
        for seq, question in enumerate(attempt["questions"], 1):
            call(base, "PUT", f"/api/v1/attempts/{attempt['id']}/answers/{question['qid']}", cookie, csrf,
                 {"answer": sample_answer(question), "seq": seq})
        return cookie, csrf, attempt["id"]

    with ThreadPoolExecutor(8) as pool:
        attempts = list(pool.map(ready, sessions))

    def timed(job):
        started = time.perf_counter()
        status, _ = job()
        return time.perf_counter() - started, status

    def measure(jobs):
        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(timed, jobs))
        elapsed = time.perf_counter() - started
        latencies = sorted(r[0] for r in results)
        return {"rps": len(results) / elapsed, "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
                "errors": sum(1 for r in results if r[1] != 200), "requests": len(results)}

    def bare_job():
        with urllib.request.urlopen(base + "/healthz", timeout=30) as response:
            return response.status, None

    bare = measure([bare_job] * len(attempts))
    submits = measure([lambda a=a: call(base, "POST", f"/api/v1/attempts/{a[2]}/submit", a[0], a[1])
                       for a in attempts])
    return {"bare": bare, "submit": submits}


def bench_import(folder: Path, env: dict, lessons: int = 1000, questions: int = 10000) -> dict:
    """Time `content import` of generated files into a fresh database, then again unchanged."""
    from bench.generate import write_bank, write_courses

    courses_dir, bank_dir = folder / "gen-courses", folder / "gen-bank"
    (bank_dir / "quizzes").mkdir(parents=True)
    courses_dir.mkdir()
    per_course, per_bank = 10, 1000
    write_courses(courses_dir, lessons // per_course, per_course, prefix="gen")
    for b in range(questions // per_bank):
        write_bank(bank_dir / f"gen-{b:02d}.yaml", f"gen-{b:02d}", per_bank)
    env = {**env, "LMS_SQLALCHEMY_DATABASE_URI": env["LMS_SQLALCHEMY_DATABASE_URI"].replace("bench.sqlite3", "imp.sqlite3")}
    flask = [sys.executable, "-m", "flask", "--app", "lms"]
    for args in (["db", "upgrade"], ["demo"]):
        subprocess.run(flask + args, env=env, cwd=ROOT, capture_output=True, check=True)
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        done = subprocess.run(flask + ["content", "import", "--courses", str(courses_dir), "--questions",
                                       str(bank_dir)], env=env, cwd=ROOT, capture_output=True, text=True)
        timings.append(time.perf_counter() - started)
        if done.returncode:
            raise SystemExit("generated import failed:\n" + done.stderr[-2000:])
    return {"first": timings[0], "again": timings[1]}


def bench_logins(base: str, usernames: list[str], password: str, seconds: float = 10.0) -> dict:
    """Logins per second with 8 concurrent clients (workers arriving before an exam)."""
    deadline = time.monotonic() + seconds
    counter = {"ok": 0, "failed": 0}

    def worker(offset: int):
        i = offset
        while time.monotonic() < deadline:
            try:
                login(base, usernames[i % len(usernames)], password)
                counter["ok"] += 1
            except OSError:
                counter["failed"] += 1
            i += 8

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(worker, range(8)))
    elapsed = time.monotonic() - started
    return {"per_second": counter["ok"] / elapsed, "failed": counter["failed"]}


#: the rows after the wrk rows, in the order they run; the long ones are left out by --skip-long
EXTRA_ROWS = ("quiz submit", "logins", "progress export", "exam peak", "certificate export", "import", "field import")
LONG_ROWS = ("exam peak", "certificate export")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", help="an EMPTY database (default: SQLite in a temporary folder)")
    parser.add_argument("--workers", type=int, default=2000)
    parser.add_argument("--courses", type=int, default=30, help="courses in the county (shipped + generated)")
    parser.add_argument("--questions", type=int, default=2000, help="questions in the banks (shipped + generated)")
    parser.add_argument("--attempts", type=int, default=20000, help="graded attempts generated over the workers")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--submits", type=int, default=400, help="attempts submitted in the submit row")
    parser.add_argument("--only", help="comma-separated words: only the rows whose names contain one (and bare)")
    parser.add_argument("--skip-long", action="store_true", help="leave out the exam peak and the certificate export")
    parser.add_argument("--certificates", type=int, default=100_000, help="rows of the certificate export")
    parser.add_argument("--compress", type=float, default=10, help="time compression of the exam peak")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of unmeasured wrk before each GET row")
    parser.add_argument("--bare-each-row", action="store_true",
                        help="measure the bare route again before every row and divide by that (shared machines)")
    parser.add_argument("--gunicorn-workers", type=int, help="default: deploy/gunicorn.conf.py")
    parser.add_argument("--gunicorn-threads", type=int, help="default: deploy/gunicorn.conf.py (sync workers)")
    parser.add_argument("--pg", action="store_true",
                        help="PostgreSQL: a scratch database lms_bench (dropped and created) on --admin-url")
    parser.add_argument("--admin-url", default=os.environ.get("LMS_BENCH_ADMIN_URL",
                                                              "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    only = [word.strip() for word in args.only.split(",") if word.strip()] if args.only else None
    if args.pg:
        from bench.province import _admin

        with _admin(args.admin_url).connect() as conn:
            conn.exec_driver_sql('DROP DATABASE IF EXISTS "lms_bench" WITH (FORCE)')
            conn.exec_driver_sql('CREATE DATABASE "lms_bench"')
        args.database_url = args.admin_url.rsplit("/", 1)[0] + "/lms_bench"

    def wanted(name: str) -> bool:
        return (only is None or any(word in name for word in only)) and not (args.skip_long and name in LONG_ROWS)

    rows = [row for row in ROWS if row is ROWS[0] or wanted(row[0])]
    extra = [name for name in EXTRA_ROWS if wanted(name)]
    if args.database_url:
        extra = [name for name in extra if name != "import"]  # the import bench makes its own SQLite files
    from bench import exam_peak, export_bench_routes
    from bench.generate import BENCH_PASSWORD

    def log(line: str) -> None:
        print(line, flush=True)

    db_kind = "PostgreSQL" if args.database_url else "SQLite"
    results, logins, submits, exam, exports, imports, field = [], None, None, None, None, None, None
    progress = None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {**os.environ, "LMS_SECRET_KEY": "bench", "LMS_IDLE_TIMEOUT_MINUTES": "120",
               "LMS_SQLALCHEMY_DATABASE_URI": args.database_url or f"sqlite:///{folder}/bench.sqlite3"}
        env.pop("LMS_TEST_DATABASE_URL", None)
        started = time.monotonic()
        usernames = prepare(env, args.workers, folder, courses=args.courses, questions=args.questions,
                            attempts=args.attempts, log=log)
        progress_data = None
        if "progress export" in extra or any("progress" in row[0] for row in rows):
            from bench.progress_bench import make_progress
            progress_data = make_progress(env)
            log(f"progress: {progress_data['lesson_rows']:,} lesson rows, {progress_data['enrolments']:,} enrolments")
        log(f"data ready in {time.monotonic() - started:.1f} s")
        port = free_port()
        server_log = folder / "gunicorn-stderr.log"
        server = start_server(env, port, args.gunicorn_workers, args.gunicorn_threads, log=server_log)
        base = f"http://127.0.0.1:{port}"
        load_before = os.getloadavg()
        try:
            sessions = [login(base, u, BENCH_PASSWORD) for u in usernames[:64]]
            ctx = {"sessions": sessions, "usernames": usernames, "base": base}
            bare = bare_cpu = None
            for name, target, make_specs in rows:
                if args.bare_each_row and target is not None:
                    # On a shared machine the load changes from row to row: divide by a bare run just before.
                    bare = run_wrk(base, ROWS[0][2](ctx), connections=args.connections, duration=args.duration)["rps"]
                specs = make_specs(ctx)
                if args.warmup and all(spec[0] == "GET" for spec in specs):
                    # First opens write "where I left off", fill per-process caches and compile statements.
                    # (Not before writes: the autosave's rising seq restarts with every wrk run.)
                    run_wrk(base, specs, connections=args.connections, duration=args.warmup)
                result = run_wrk(base, specs, connections=args.connections, duration=args.duration,
                                 server_pid=server.pid)
                bare = bare or result["rps"]
                bare_cpu = bare_cpu or result["cpu_ms"]
                result["bare"] = bare
                result["load"] = os.getloadavg()[0]
                results.append((name, target, result))
                log(f"{name}: {result['rps']:.0f} rps ({result['rps'] / bare:.0%} of bare {bare:.0f}), "
                    f"p99 {result['p99']:.1f} ms, server CPU {result['cpu_ms'] or 0:.2f} ms/request, "
                    f"load {result['load']:.2f}")
            if "logins" in extra:
                logins = bench_logins(base, usernames[64:], BENCH_PASSWORD)
                logins["load"] = os.getloadavg()[0]
                log(f"logins: {logins['per_second']:.1f}/s, load {logins['load']:.2f}")
            if "progress export" in extra:
                from bench.progress_bench import measure
                progress = measure(port, log=log)
                progress["load"] = os.getloadavg()[0]
            if "quiz submit" in extra:
                submit_sessions = [login(base, u, BENCH_PASSWORD) for u in usernames[-args.submits:]]
                submits = bench_submits(base, submit_sessions)
                submits["load"] = os.getloadavg()[0]
                log(f"submit: {submits['submit']['rps']:.0f} rps vs bare {submits['bare']['rps']:.0f}, "
                    f"load {submits['load']:.2f}")
            if "exam peak" in extra:
                # Its own quiz (bench-exam) on the same server and county data; every worker logs in first.
                log(f"exam peak: {len(usernames)} workers, {args.compress:g}× compressed …")
                exam = exam_peak.run_exam_peak(env, port, usernames, folder, db_kind=db_kind, server_log=server_log,
                                               log=log, compress=args.compress)
                log("\n".join(exam["lines"]))
            if "certificate export" in extra:
                began = time.perf_counter()
                made = export_bench_routes.make_certificates(env, args.certificates)
                log(f"certificates: {made['certificates']:,} over {made['holders']:,} workers in "
                    f"{time.perf_counter() - began:.1f} s")
                # A fresh server on the same database: the peak RSS target is the export's own memory, not what
                # the workers kept from the rows before (they sit at ~200 MB after the exam peak).
                rss = [export_bench_routes.status_kb(pid, "VmRSS") // 1024
                       for pid in export_bench_routes.worker_pids(server.pid)]
                stop_server(server)
                server = start_server(env, port, args.gunicorn_workers, args.gunicorn_threads, log=server_log)
                log(f"gunicorn restarted for the export (worker RSS before the restart: {rss} MB)")
                exports = {"made": made, "results": export_bench_routes.run_downloads(port, server.pid, log=log),
                           "rss_before_restart": rss}
        except BaseException:
            log("server log (last lines):\n" + "\n".join(server_log.read_text(errors="replace").splitlines()[-30:]))
            raise
        finally:
            load_after = os.getloadavg()
            stop_server(server)
        tracebacks = exam_peak.server_errors(server_log)
        if "import" in extra:
            imports = bench_import(folder, env)
            imports["load"] = os.getloadavg()[0]
        if "field import" in extra:
            # issue #19: a county's year of grid-platform events, its own fresh database (SQLite, or --pg's server)
            from bench import field_import
            field_folder = folder / "field"
            field_folder.mkdir()
            field_url = None
            if args.database_url:
                from bench.province import _admin
                with _admin(args.admin_url).connect() as conn:
                    conn.exec_driver_sql('DROP DATABASE IF EXISTS "lms_bench_field" WITH (FORCE)')
                    conn.exec_driver_sql('CREATE DATABASE "lms_bench_field"')
                field_url = args.admin_url.rsplit("/", 1)[0] + "/lms_bench_field"
            field = field_import.run(field_folder, database_url=field_url, log=log)
    lines = [f"Machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
             f"{db_kind} · {gunicorn_shape(args.gunicorn_workers, args.gunicorn_threads)} · "
             f"wrk {args.connections} connections × {args.duration} s (GET rows after {args.warmup} s unmeasured) · "
             f"county data: {args.workers:,} workers, {args.courses} courses, {args.questions:,} questions, "
             f"{args.attempts:,} attempts · load average (1 min) before/after the server rows: "
             f"{load_before[0]:.2f} / {load_after[0]:.2f}",
             "", "| work | rps | ratio to bare | target | p99 ms | errors | server CPU ms/request (bare ÷ this) "
             "| load |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, target, r in results:
        ratio = r["rps"] / r["bare"]
        verdict = "" if target is None else (" ✓" if ratio >= target else " ✗")
        cpu = f"{r['cpu_ms']:.2f}" if r["cpu_ms"] else ""
        if r["cpu_ms"] and bare_cpu and target is not None:
            cpu += f" ({bare_cpu / r['cpu_ms']:.0%})"
        lines.append(f"| {name} | {r['rps']:.0f} | {ratio:.0%}{verdict} | {'' if target is None else f'≥ {target:.0%}'} "
                     f"| {r['p99']:.1f} | {r['errors']} | {cpu} | {r['load']:.2f} |")
    if submits:
        sub, sub_bare = submits["submit"], submits["bare"]
        ratio = sub["rps"] / sub_bare["rps"]
        lines.append(f"| quiz submit, 20 questions (8 clients; bare /healthz by the same client: "
                     f"{sub_bare['rps']:.0f} rps) | {sub['rps']:.0f} | {ratio:.0%}{' ✓' if ratio >= 0.08 else ' ✗'} "
                     f"| ≥ 8% | {sub['p99']:.1f} | {sub['errors']} | | {submits['load']:.2f} |")
    if logins:
        lines.append(f"| logins (8 clients, argon2id m=19 MiB t=2) | {logins['per_second']:.1f}/s | | ≥ 30/s | | "
                     f"{logins['failed']} | | {logins['load']:.2f} |")
    if progress:
        from bench.progress_bench import table_lines
        lines.extend(table_lines(progress, progress["load"]))
    if exam:
        c = exam["checks"]
        lines.append(f"| exam peak: {len(usernames):,} workers, {args.compress:g}× compressed, {exam['requests']:,} "
                     f"requests; answers sent {c['sent_answers']:,}, lost {exam['lost']}, attempts "
                     f"{c['attempts']:,} (not submitted {c['not_submitted']}) | {exam['rate']:.0f} | | "
                     f"0 errors, 0 lost, p99 ≤ 300 ms{' ✓' if exam['ok'] else ' ✗'} | {exam['p99']:.1f} | "
                     f"{exam['errors']} | | {exam['load_before']:.2f} / {exam['load_after']:.2f} |")
    if exports:
        expected = exports["made"]["certificates"]
        for fmt in ("csv", "xlsx"):
            runs = [r for r in exports["results"] if r["fmt"] == fmt]
            ok = all(export_bench_routes.met(r, expected) for r in runs)

            def each(key, runs=runs):
                return " / ".join(f"{r[key]:.2f}" for r in runs)

            lines.append(
                f"| certificate export {fmt.upper()}, {expected:,} rows (demo hr, fresh gunicorn; worker RSS "
                f"{min(r['rss_before'] for r in runs):.0f} → peak {max(r['peak'] for r in runs):.0f} MB; "
                f"worker CPU {each('cpu')} s) "
                f"| {each('seconds')} s | | ≤ {export_bench_routes.TARGETS[fmt]:g} s, "
                f"≤ {export_bench_routes.RSS_TARGET_MB} MB{' ✓' if ok else ' ✗'} | | "
                f"{sum(1 for r in runs if r['status'] != 200 or r['rows'] != expected)} | | {each('load')} |")
    if imports:
        lines.append(f"| import 1,000 lessons + 10,000 questions (CLI, fresh database) | {imports['first']:.1f} s "
                     f"| | ≤ 10 s | | | | {imports['load']:.2f} |")
        lines.append(f"| unchanged re-import | {imports['again']:.1f} s | | ≤ 3 s | | | | |")
    if field:
        from bench.field_import import table_lines as field_lines
        lines.extend(field_lines(field))
    lines.append("")
    if args.bare_each_row:
        lines.append("Each ratio divides by a bare /healthz run made just before that row (--bare-each-row).")
    if tracebacks:
        distinct = sorted(set(tracebacks), key=tracebacks.index)
        lines.append(f"Server tracebacks during the run: {len(tracebacks)}; distinct: " + " | ".join(distinct[:5]))
    skipped = [name for name in EXTRA_ROWS if name not in extra]
    if skipped:
        lines.append(f"Not run this time ({'--only ' + args.only if only else ''}"
                     f"{' --skip-long' if args.skip_long else ''}{' PostgreSQL' if args.database_url else ''}): "
                     + ", ".join(skipped) + ".")
    if not args.database_url:
        lines.append("Province scale (200,000 users) runs in `make bench-pg` (bench/province.py).")
    table = "\n".join(lines)
    print("\n" + table)
    (ROOT / "bench" / "last-run.md").write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
