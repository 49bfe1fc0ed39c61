"""`make bench`: county-scale data, a live gunicorn, wrk against each route, ratios to the bare route.

Usage: python bench/run.py [--database-url URL] [--workers 2000] [--duration 10] [--connections 32]
Prints one table (rps, ratio to /healthz in the same run, p99) and writes it to bench/last-run.md.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import platform
import re
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


def prepare(env: dict, workers: int) -> list[str]:
    flask = [sys.executable, "-m", "flask", "--app", "lms"]
    for args in (["db", "upgrade"], ["demo"], ["content", "import"]):
        done = subprocess.run(flask + args, env=env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode not in (0,) and args[0] != "content":
            raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr}")
    code = ("import json, sys; from lms import create_app; from bench.generate import generate; "
            f"app = create_app(); ctx = app.app_context(); ctx.push(); print(json.dumps(generate({workers})))")
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit("data generation failed:\n" + done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def start_server(env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4", "--bind", f"127.0.0.1:{port}",
         "lms:create_app()"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(150):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


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


def run_wrk(base: str, specs: list[tuple], *, connections: int, duration: int) -> dict:
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
    return {"rps": float(rps), "p50": float(p50), "p99": float(p99), "errors": int(errors) + int(non2xx),
            "requests": int(requests)}


#: rows: name, target ratio (or None), fn(ctx) -> list of specs (method, path, cookie, csrf, body)
ROWS: list[tuple] = [
    ("bare /healthz", None, lambda ctx: [("GET", "/healthz", "", "", "")]),
    ("worker home page", 0.20, lambda ctx: [("GET", "/", c, "", "") for c, _ in ctx["sessions"]]),
    ("GET /api/v1/me", 0.25, lambda ctx: [("GET", "/api/v1/me", c, "", "") for c, _ in ctx["sessions"]]),
]


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
    args = parser.parse_args()
    from bench.generate import BENCH_PASSWORD

    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "LMS_SECRET_KEY": "bench", "LMS_IDLE_TIMEOUT_MINUTES": "120",
               "LMS_SQLALCHEMY_DATABASE_URI": args.database_url or f"sqlite:///{folder}/bench.sqlite3"}
        env.pop("LMS_TEST_DATABASE_URL", None)
        started = time.monotonic()
        usernames = prepare(env, args.workers)
        print(f"data: {len(usernames)} workers in {time.monotonic() - started:.1f} s", flush=True)
        port = free_port()
        server = start_server(env, port)
        base = f"http://127.0.0.1:{port}"
        try:
            sessions = [login(base, u, BENCH_PASSWORD) for u in usernames[:64]]
            ctx = {"sessions": sessions, "usernames": usernames, "base": base}
            results = []
            bare = None
            for name, target, make_specs in ROWS:
                result = run_wrk(base, make_specs(ctx), connections=args.connections, duration=args.duration)
                bare = bare or result["rps"]
                results.append((name, target, result))
                print(f"{name}: {result['rps']:.0f} rps, p99 {result['p99']:.1f} ms", flush=True)
            logins = bench_logins(base, usernames[64:], BENCH_PASSWORD)
        finally:
            server.terminate()
            server.wait(timeout=10)
    db_kind = "PostgreSQL" if args.database_url else "SQLite"
    lines = [f"Machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
             f"{db_kind} · gunicorn 2 workers × 4 threads · wrk {args.connections} connections × {args.duration} s",
             "", "| work | rps | ratio to bare | target | p99 ms | errors |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, target, r in results:
        ratio = r["rps"] / bare
        verdict = "" if target is None else (" ✓" if ratio >= target else " ✗")
        lines.append(f"| {name} | {r['rps']:.0f} | {ratio:.0%}{verdict} | {'' if target is None else f'≥ {target:.0%}'} "
                     f"| {r['p99']:.1f} | {r['errors']} |")
    lines.append(f"| logins (8 clients, argon2id m=19 MiB t=2) | {logins['per_second']:.1f}/s | | ≥ 30/s | | "
                 f"{logins['failed']} |")
    table = "\n".join(lines)
    print("\n" + table)
    (ROOT / "bench" / "last-run.md").write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
