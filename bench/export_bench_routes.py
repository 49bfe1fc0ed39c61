"""HR certificate exports end to end: 100,000 certificates in the database, gunicorn, the real routes.

Usage: python bench/export_bench_routes.py [--database-url URL] [--rows 100000] [--workers 20000] [--repeat 2]

Generates the certificates by bulk insert (holders spread over generated
workers, the programs of courses/certifications.yaml), logs in as the demo
`hr`, downloads /exports/certificates.csv and .xlsx reading the whole body,
and reads the peak RSS (VmHWM) of the gunicorn workers, reset before each
download through /proc/<pid>/clear_refs, and the CPU seconds the serving worker
spent (wall time on a shared machine depends on its load). On PostgreSQL the
data is ANALYZEd after loading. Targets (DESIGN.md): CSV ≤ 2 s, XLSX ≤ 8 s,
peak RSS ≤ 200 MB. The row counts of both files are checked.
"""
from __future__ import annotations

import argparse
import csv
import http.client
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import free_port, gunicorn_shape, login, prepare, start_server  # noqa: E402  (path set above)

TARGETS = {"csv": 2.0, "xlsx": 8.0}
RSS_TARGET_MB = 200


def generate_certificates(rows: int, seed: int = 11, points_per_worker: int = 3) -> dict:
    """rows certificates over the generated workers (bw…), plus ID cards, phones and a few point entries; commits.

    Runs inside an app context. Each holder gets certificates of several
    programs, issued 2021–2026; those past their last day are expired (as
    `tasks run` leaves them), about 2% revoked.
    """
    import datetime as dt
    import random

    import sqlalchemy as sa

    from lms.accounts.models import User
    from lms.certification.codes import format_number, new_verify_code
    from lms.certification.models import Certificate, CertificateStatus, Program
    from lms.certification.services import number_prefix, validity_end
    from lms.extensions import db
    from lms.points.models import PointEntry, PointKind

    rng = random.Random(seed)
    holders = db.session.execute(sa.select(User.id, User.org_id).where(User.username.like("bw%"))
                                 .order_by(User.username)).all()
    programs = list(db.session.scalars(sa.select(Program).order_by(Program.position)))
    if not holders or not programs:
        raise SystemExit("no generated workers or no certification programs (content import?)")
    users = User.__table__
    db.session.execute(sa.update(users).where(users.c.id == sa.bindparam("uid"))
                       .values(id_card=sa.bindparam("card"), phone=sa.bindparam("tel")),
                       [{"uid": uid, "card": f"360121{1960 + i % 40}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
                                             f"{'0123456789X'[i % 11]}", "tel": f"13{i % 10}{i:08d}"[:11]}
                        for i, (uid, _) in enumerate(holders)])
    entries = [{"user_id": uid, "kind": PointKind.lesson_complete, "points": rng.choice((2, 5, 10)),
                "reason": "完成课时《网格员职责》", "source_type": "lesson", "source_id": str(k), "org_id": org,
                "created_at": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)}
               for uid, org in holders for k in range(points_per_worker)]
    for start in range(0, len(entries), 5000):
        db.session.execute(sa.insert(PointEntry.__table__), entries[start:start + 5000])
    today = dt.date.today()
    first_day, days = dt.date(2021, 1, 1), (dt.date(2026, 11, 1) - dt.date(2021, 1, 1)).days
    seqs: dict = {}
    now = dt.datetime.now(dt.timezone.utc)
    batch = []
    counts = {"valid": 0, "expired": 0, "revoked": 0}
    for i in range(rows):
        uid, org = holders[i % len(holders)]
        program = programs[(i // len(holders)) % len(programs)]
        issued = first_day + dt.timedelta(days=rng.randrange(days))
        seq = seqs[(program.id, issued.year)] = seqs.get((program.id, issued.year), 0) + 1
        expires = validity_end(issued, program.valid_months)
        status = (CertificateStatus.revoked if rng.random() < 0.02
                  else CertificateStatus.expired if expires < today else CertificateStatus.valid)
        counts[status.value] += 1
        batch.append({"number": format_number(number_prefix(program), issued.year, seq), "year": issued.year,
                      "seq": seq, "verify_code": new_verify_code(rng), "holder_id": uid, "program_id": program.id,
                      "org_id": org, "issued_on": issued, "expires_on": expires, "status": status,
                      "revoked_reason": "离岗" if status == CertificateStatus.revoked else None,
                      "revoked_at": now if status == CertificateStatus.revoked else None,
                      "issued_by_id": None, "reason": "自动发放", "renewal_of_id": None, "created_at": now})
        if len(batch) == 5000:
            db.session.execute(sa.insert(Certificate.__table__), batch)
            batch = []
    if batch:
        db.session.execute(sa.insert(Certificate.__table__), batch)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # Planner statistics, as autovacuum keeps them on a live server (it is off on the test server):
        # without them PostgreSQL plans the export for empty tables (nested loops, ~1.6 s instead of ~0.4 s).
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    return {"certificates": rows, "holders": len(holders), "programs": len(programs), "points": len(entries),
            **counts}


def worker_pids(master: int) -> list[int]:
    """The gunicorn worker processes: children of the master."""
    pids = []
    for task in Path(f"/proc/{master}/task").iterdir():
        children = (task / "children").read_text().split()
        pids += [int(p) for p in children]
    return sorted(set(pids))


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (less sensitive than wall time to a shared machine's load)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs); False when not permitted."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def download(port: int, path: str, cookie: str) -> tuple[int, bytes, float, float]:
    """(status, body, seconds to the first byte, seconds to the last byte) of one GET."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": cookie})
    response = conn.getresponse()
    chunks, first = [], None
    while True:
        chunk = response.read(1 << 16)
        if first is None:
            first = time.perf_counter() - started
        if not chunk:
            break
        chunks.append(chunk)
    elapsed = time.perf_counter() - started
    conn.close()
    return response.status, b"".join(chunks), first or elapsed, elapsed


def count_rows(fmt: str, body: bytes) -> int:
    """Data rows (without the header) of a downloaded export."""
    if fmt == "csv":
        return sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8-sig")))) - 1
    from openpyxl import load_workbook
    workbook = load_workbook(io.BytesIO(body), read_only=True)
    count = sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True)) - 1
    workbook.close()
    return count


CERTIFICATES_CODE = ("import json, sys; from lms import create_app; "
                     "from bench.export_bench_routes import generate_certificates; "
                     "app = create_app(); ctx = app.app_context(); ctx.push(); "
                     "print(json.dumps(generate_certificates(int(sys.argv[1]))))")


def make_certificates(env: dict, rows: int) -> dict:
    """generate_certificates(rows) in the database of env (a subprocess, as the server would see it)."""
    done = subprocess.run([sys.executable, "-c", CERTIFICATES_CODE, str(rows)], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit("certificate generation failed:\n" + done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_downloads(port: int, master_pid: int, repeat: int = 2, log=print) -> list[dict]:
    """Download both exports `repeat` times as the demo hr from the server on port; one result dict each."""
    from lms.accounts.demo import DEMO_PASSWORD

    cookie, _ = login(f"http://127.0.0.1:{port}", "hr", DEMO_PASSWORD)
    pids = worker_pids(master_pid)
    results = []
    for fmt in ("csv", "xlsx"):
        for run in range(1, repeat + 1):
            load = os.getloadavg()[0]
            before = {pid: status_kb(pid, "VmRSS") for pid in pids}
            reset = all(reset_peak(pid) for pid in pids)
            cpu_before = {pid: cpu_seconds(pid) for pid in pids}
            status, body, first, elapsed = download(port, f"/exports/certificates.{fmt}", cookie)
            cpu = {pid: cpu_seconds(pid) - cpu_before[pid] for pid in pids}
            peaks = {pid: status_kb(pid, "VmHWM") for pid in pids}
            grew = max(pids, key=lambda pid: cpu[pid])  # the worker that served it
            rows = count_rows(fmt, body) if status == 200 else -1
            results.append({"fmt": fmt, "run": run, "status": status, "seconds": elapsed, "first": first,
                            "bytes": len(body), "rows": rows, "rss_before": before[grew] / 1024,
                            "peak": peaks[grew] / 1024, "max_peak": max(peaks.values()) / 1024,
                            "reset": reset, "load": load, "cpu": cpu[grew]})
            log(f"{fmt} #{run}: {status} {elapsed:.2f} s, worker CPU {cpu[grew]:.2f} s, {rows} rows, "
                f"worker peak RSS {peaks[grew] / 1024:.0f} MB, load {load:.2f}")
    return results


def met(result: dict, expected_rows: int) -> bool:
    return (result["status"] == 200 and result["seconds"] <= TARGETS[result["fmt"]]
            and result["peak"] <= RSS_TARGET_MB and result["rows"] == expected_rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an EMPTY database (default: SQLite in a temporary folder)")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=20_000, help="generated holders")
    parser.add_argument("--repeat", type=int, default=2, help="downloads per format")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {**os.environ, "LMS_SECRET_KEY": "bench", "LMS_IDLE_TIMEOUT_MINUTES": "120",
               "LMS_SQLALCHEMY_DATABASE_URI": args.database_url or f"sqlite:///{folder}/bench.sqlite3"}
        env.pop("LMS_TEST_DATABASE_URL", None)
        began = time.monotonic()
        prepare(env, args.workers, folder, attempts=0)
        made = make_certificates(env, args.rows)
        print(f"data: {made} in {time.monotonic() - began:.1f} s", flush=True)
        port = free_port()
        server = start_server(env, port)
        try:
            results = run_downloads(port, server.pid, args.repeat, log=lambda line: print(line, flush=True))
        finally:
            server.terminate()
            server.wait(timeout=30)

    db_kind = "PostgreSQL" if args.database_url else "SQLite"
    lines = [f"Certificate exports over HTTP, {db_kind}: {made['certificates']:,} certificates "
             f"({made['valid']:,} valid, {made['expired']:,} expired, {made['revoked']:,} revoked) of "
             f"{made['holders']:,} workers in {made['programs']} programs, {made['points']:,} point entries; "
             f"{gunicorn_shape()}; demo hr (county scope, masked); {os.cpu_count()} cores",
             "", "| export | run | status | seconds (whole body) | first byte s | worker CPU s | MB | rows | rows ok | "
             "worker RSS before MB | worker peak RSS MB (VmHWM) | target | load avg |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- | ---: |"]
    ok = True
    for r in results:
        ok &= met(r, made["certificates"])
        lines.append(f"| {r['fmt'].upper()} | {r['run']} | {r['status']} | {r['seconds']:.2f} | {r['first']:.2f} | "
                     f"{r['cpu']:.2f} | "
                     f"{r['bytes'] / 1e6:.1f} | {r['rows']:,} | {'✓' if r['rows'] == made['certificates'] else '✗'} | "
                     f"{r['rss_before']:.0f} | {r['peak']:.0f}{'' if r['reset'] else ' (since start)'} | "
                     f"≤ {TARGETS[r['fmt']]:g} s, ≤ {RSS_TARGET_MB} MB {'✓' if met(r, made['certificates']) else '✗'} "
                     f"| {r['load']:.2f} |")
    lines.append("")
    lines.append(f"highest VmHWM of any gunicorn worker during the downloads: "
                 f"{max(r['max_peak'] for r in results):.0f} MB; targets {'met ✓' if ok else 'NOT all met ✗'}")
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
