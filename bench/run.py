"""`make bench`: county-scale data, a live gunicorn, wrk against each route, ratios to the bare route.

Usage: python bench/run.py [--database-url URL] [--workers 2000] [--duration 10] [--connections 32]
                           [--only lesson,catalog] [--warmup 1] [--bare-each-row] [--gunicorn-workers 2]
                           [--gunicorn-threads 4]
Prints one table (rps, ratio to /healthz in the same run, p99, load average) and writes it to bench/last-run.md.
--only runs the bare row and the rows whose names contain one of the words, and skips logins, submits and
the import (a quick check of a few pages on a shared machine).
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


BENCH_QUIZ = """code: bench-20
title: 基准测试用测验（20 题）
org: HX
draw:
  - {bank: grid-duties, count: 20}
time_limit_minutes: 600
pass_score: 60
shuffle_options: true
"""


def bench_content(folder: Path) -> Path:
    """The shipped question bank plus a 20-question quiz with no attempt limit."""
    target = folder / "question_bank"
    shutil.copytree(ROOT / "question_bank", target)
    (target / "quizzes" / "bench-20.yaml").write_text(BENCH_QUIZ, encoding="utf-8")
    return target


def assign_courses(due_in_days: int = 30) -> None:
    """Every published course assigned to the whole demo county, so my-learning and home show real cards."""
    import datetime as dt

    import sqlalchemy as sa

    from lms.courses.models import Assignment, Course
    from lms.db import utcnow
    from lms.extensions import db
    from lms.org.queries import get_org

    county, now = get_org("HX"), utcnow()
    for course in db.session.scalars(sa.select(Course).where(Course.is_published)):
        db.session.add(Assignment(course=course, org=county, due_on=now.date() + dt.timedelta(days=due_in_days),
                                  created_at=now))
    db.session.commit()


def prepare(env: dict, workers: int, folder: Path) -> list[str]:
    flask = [sys.executable, "-m", "flask", "--app", "lms"]
    questions = bench_content(folder)
    for args in (["db", "upgrade"], ["demo"], ["content", "import", "--questions", str(questions)]):
        done = subprocess.run(flask + args, env=env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    code = ("import json, sys; from lms import create_app; from bench.generate import generate; "
            "from bench.run import assign_courses; "
            f"app = create_app(); ctx = app.app_context(); ctx.push(); users = generate({workers}); assign_courses(); "
            "print(json.dumps(users))")
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit("data generation failed:\n" + done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def start_server(env: dict, port: int, workers: int = 2, threads: int = 4) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
         "--bind", f"127.0.0.1:{port}", "lms:create_app()"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return wait_until_serving(server, port)


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


#: rows: name, target ratio (or None), fn(ctx) -> list of specs (method, path, cookie, csrf, body)
ROWS: list[tuple] = [
    ("bare /healthz", None, lambda ctx: [("GET", "/healthz", "", "", "")]),
    ("authenticated lesson page", 0.25, lesson_specs),
    ("catalog page /courses", 0.20, lambda ctx: [("GET", "/courses", c, "", "") for c, _ in ctx["sessions"]]),
    ("my-learning page /learning", 0.20, lambda ctx: [("GET", "/learning", c, "", "") for c, _ in ctx["sessions"]]),
    ("worker home page", 0.20, lambda ctx: [("GET", "/", c, "", "") for c, _ in ctx["sessions"]]),
    ("quiz answer autosave (PUT)", 0.15, autosave_specs),
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
    courses_dir, bank_dir = folder / "gen-courses", folder / "gen-bank"
    (bank_dir / "quizzes").mkdir(parents=True)
    per_course = 10
    for c in range(lessons // per_course):
        course = courses_dir / f"gen-{c:03d}"
        course.mkdir(parents=True)
        (course / "course.md").write_text(f"---\ncode: gen-{c:03d}\ntitle: 生成课程 {c}\nlevel: county\norg: HX\n"
                                          f"hours: 2\ntags: [生成]\n---\n这是用于导入基准的课程 {c}。\n",
                                          encoding="utf-8")
        for n in range(1, per_course + 1):
            body = "\n\n".join(f"## 第 {k} 节\n\n网格员每天走访辖区，发现问题及时上报。" * 3 for k in range(4))
            (course / f"{n:02d}-part-{n}.md").write_text(f"---\ntitle: 第 {n} 课\nminutes: 8\n---\n{body}\n",
                                                       encoding="utf-8")
    per_bank = 1000
    for b in range(questions // per_bank):
        lines = [f"bank: gen-{b:02d}", f"title: 生成题库 {b}", "org: HX", "questions:"]
        for q in range(per_bank):
            lines += [f"  - id: gen{b:02d}-{q:05d}", "    type: single",
                      f"    stem: 第 {q} 题：网格员发现消防通道被占用，首先应当怎么做？",
                      "    options: {A: 劝导清理并上报, B: 视而不见, C: 自行处罚, D: 拍照发朋友圈}",
                      "    answer: A", "    explanation: 先劝导，劝导无效及时上报。",
                      "    source: 《中华人民共和国消防法》第二十八条", "    difficulty: 2", "    tags: [消防]"]
        (bank_dir / f"gen-{b:02d}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--workers", type=int, default=2000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--submits", type=int, default=400, help="attempts submitted in the submit row")
    parser.add_argument("--only", help="comma-separated words: only the rows whose names contain one (and bare)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of unmeasured wrk before each GET row")
    parser.add_argument("--bare-each-row", action="store_true",
                        help="measure the bare route again before every row and divide by that (shared machines)")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--gunicorn-threads", type=int, default=4)
    args = parser.parse_args()
    only = [word.strip() for word in args.only.split(",") if word.strip()] if args.only else None
    rows = [row for row in ROWS if only is None or row[1] is None or any(word in row[0] for word in only)]
    from bench.generate import BENCH_PASSWORD

    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "LMS_SECRET_KEY": "bench", "LMS_IDLE_TIMEOUT_MINUTES": "120",
               "LMS_SQLALCHEMY_DATABASE_URI": args.database_url or f"sqlite:///{folder}/bench.sqlite3"}
        env.pop("LMS_TEST_DATABASE_URL", None)
        started = time.monotonic()
        usernames = prepare(env, args.workers, Path(folder))
        print(f"data: {len(usernames)} workers in {time.monotonic() - started:.1f} s", flush=True)
        port = free_port()
        server = start_server(env, port, args.gunicorn_workers, args.gunicorn_threads)
        base = f"http://127.0.0.1:{port}"
        logins = submits = None
        load_before = os.getloadavg()
        try:
            sessions = [login(base, u, BENCH_PASSWORD) for u in usernames[:64]]
            ctx = {"sessions": sessions, "usernames": usernames, "base": base}
            results = []
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
                results.append((name, target, result))
                print(f"{name}: {result['rps']:.0f} rps ({result['rps'] / bare:.0%} of bare {bare:.0f}), "
                      f"p99 {result['p99']:.1f} ms, server CPU {result['cpu_ms'] or 0:.2f} ms/request, "
                      f"load {os.getloadavg()[0]:.2f}", flush=True)
            if only is None:
                logins = bench_logins(base, usernames[64:], BENCH_PASSWORD)
                submit_sessions = [login(base, u, BENCH_PASSWORD) for u in usernames[-args.submits:]]
                submits = bench_submits(base, submit_sessions)
                print(f"submit: {submits['submit']['rps']:.0f} rps vs bare {submits['bare']['rps']:.0f}", flush=True)
        finally:
            load_after = os.getloadavg()
            server.terminate()
            server.wait(timeout=10)
        imports = bench_import(Path(folder), env) if not args.database_url and only is None else None
    db_kind = "PostgreSQL" if args.database_url else "SQLite"
    lines = [f"Machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
             f"{db_kind} · gunicorn {args.gunicorn_workers} workers × {args.gunicorn_threads} threads · "
             f"wrk {args.connections} connections × {args.duration} s (GET rows after {args.warmup} s unmeasured) · "
             "load average (1 min) before/after the rows: "
             f"{load_before[0]:.2f} / {load_after[0]:.2f}",
             "", "| work | rps | ratio to bare | target | p99 ms | errors | server CPU ms/request (bare ÷ this) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, target, r in results:
        ratio = r["rps"] / r["bare"]
        verdict = "" if target is None else (" ✓" if ratio >= target else " ✗")
        cpu = f"{r['cpu_ms']:.2f}" if r["cpu_ms"] else ""
        if r["cpu_ms"] and bare_cpu and target is not None:
            cpu += f" ({bare_cpu / r['cpu_ms']:.0%})"
        lines.append(f"| {name} | {r['rps']:.0f} | {ratio:.0%}{verdict} | {'' if target is None else f'≥ {target:.0%}'} "
                     f"| {r['p99']:.1f} | {r['errors']} | {cpu} |")
    if submits:
        sub, sub_bare = submits["submit"], submits["bare"]
        ratio = sub["rps"] / sub_bare["rps"]
        lines.append(f"| quiz submit, 20 questions (8 clients; bare /healthz by the same client: "
                     f"{sub_bare['rps']:.0f} rps) | {sub['rps']:.0f} | {ratio:.0%}{' ✓' if ratio >= 0.08 else ' ✗'} "
                     f"| ≥ 8% | {sub['p99']:.1f} | {sub['errors']} | |")
    if logins:
        lines.append(f"| logins (8 clients, argon2id m=19 MiB t=2) | {logins['per_second']:.1f}/s | | ≥ 30/s | | "
                     f"{logins['failed']} | |")
    if imports:
        lines.append(f"| import 1,000 lessons + 10,000 questions (CLI, fresh database) | {imports['first']:.1f} s "
                     "| | ≤ 10 s | | | |")
        lines.append(f"| unchanged re-import | {imports['again']:.1f} s | | ≤ 3 s | | | |")
    lines.append("")
    if args.bare_each_row:
        lines.append("Each ratio divides by a bare /healthz run made just before that row (--bare-each-row).")
    if only is not None:
        lines.append(f"Only the rows matching --only {args.only}: logins, submits and the import were skipped.")
    lines.append("Not measured yet: the exam-peak scenario, the 100,000-row certificate export, province scale (bench-pg).")
    table = "\n".join(lines)
    print("\n" + table)
    (ROOT / "bench" / "last-run.md").write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
