"""Profile the certificate exports in-process: where the seconds of a 100,000-row download go.

Usage:
  python bench/export_bench_profile.py --database-url URL --prepare [--rows 100000] [--workers 20000]
  python bench/export_bench_profile.py --database-url URL [--format csv|xlsx|both] [--top 30] [--no-profile]
  python bench/export_bench_profile.py --database-url URL --stages [--repeat 3]

``--prepare`` fills an EMPTY database the way bench/export_bench_routes.py does
(migrations, demo, content, generated workers and certificates) and keeps it,
so profiles can be repeated without regenerating. Without it, the script logs
in as the demo ``hr`` through the Flask test client and reads the whole body of
/exports/certificates.<format> under cProfile (or just times it with
``--no-profile``), then prints the wall time and the functions by own time.
``--stages`` times the export's parts without a profiler (which inflates
per-call costs): the query alone, + building the rows, + the CSV or XLSX
writer; the differences are each part's share.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def prepare_database(url: str, rows: int, workers: int) -> None:
    from bench.run import prepare

    env = {**os.environ, "LMS_SECRET_KEY": "bench", "LMS_SQLALCHEMY_DATABASE_URI": url}
    env.pop("LMS_TEST_DATABASE_URL", None)
    with tempfile.TemporaryDirectory() as tmp:
        prepare(env, workers, Path(tmp))
    code = ("import json; from lms import create_app; from bench.export_bench_routes import generate_certificates; "
            "app = create_app(); ctx = app.app_context(); ctx.push(); "
            f"print(json.dumps(generate_certificates({rows})))")
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit("certificate generation failed:\n" + done.stderr[-3000:])
    print(done.stdout.strip().splitlines()[-1])


def download(client, fmt: str) -> tuple[int, int, float, float, float]:
    """(status, bytes, seconds to the first chunk, to the last, CPU seconds) of one export through the test client."""
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get(f"/exports/certificates.{fmt}", buffered=False)
    size, first = 0, None
    for chunk in response.response:
        if first is None:
            first = time.perf_counter() - started
        size += len(chunk)
    response.close()
    elapsed = time.perf_counter() - started
    return response.status_code, size, first or elapsed, elapsed, time.process_time() - cpu


def stages(app, repeat: int) -> None:
    """Best of ``repeat`` wall and CPU seconds of the export's parts, in the routes' own functions."""
    from flask_login import login_user
    import sqlalchemy as sa

    from lms.accounts.models import User
    from lms.accounts.permissions import Permission
    from lms.certification import present, queries
    from lms.extensions import db
    from lms.reports import export_views as views
    from lms.reports.exports import CERTIFICATE_COLUMNS, CERTIFICATE_WIDTHS, iter_csv, iter_xlsx

    def query_only(query, index, today):
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":  # as _rows does
            connection.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1.0")
        with connection.execute(query.execution_options(yield_per=views._EXPORT_FETCH)) as result:
            for batch in result.partitions():
                yield from batch

    parts = {
        "query": lambda q, i, t: query_only(q, i, t),
        "query + rows": lambda q, i, t: views._rows(q, i, t),
        "query + rows + CSV": lambda q, i, t: iter_csv(CERTIFICATE_COLUMNS, views._rows(q, i, t, text_dates=True)),
        "query + rows + XLSX": lambda q, i, t: iter_xlsx(CERTIFICATE_COLUMNS, views._rows(q, i, t), "证书",
                                                        widths=CERTIFICATE_WIDTHS),
    }
    with app.test_request_context():
        login_user(db.session.scalar(sa.select(User).where(User.username == "hr")))
        today = queries.local_today()
        from flask_login import current_user
        filters = present.parse_filters({}, current_user, Permission.EXPORT)
        query, index = views._record_query(filters, today), views.OrgIndex(current_user)
        db.session.commit()
        for name, make in parts.items():
            best_wall = best_cpu = float("inf")
            for _ in range(repeat):
                wall, cpu = time.perf_counter(), time.process_time()
                for _ in make(query, index, today):
                    pass
                best_wall = min(best_wall, time.perf_counter() - wall)
                best_cpu = min(best_cpu, time.process_time() - cpu)
                db.session.commit()
            print(f"{name:24s} wall {best_wall:5.2f} s  CPU {best_cpu:5.2f} s  (best of {repeat}; "
                  f"load {os.getloadavg()[0]:.2f})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--prepare", action="store_true", help="fill the (empty) database and stop")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=20_000)
    parser.add_argument("--format", choices=("csv", "xlsx", "both"), default="both")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--no-profile", action="store_true", help="time only")
    parser.add_argument("--stages", action="store_true", help="time the export's parts without a profiler")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.prepare:
        prepare_database(args.database_url, args.rows, args.workers)
        return

    os.environ.update({"LMS_SECRET_KEY": "bench", "LMS_SQLALCHEMY_DATABASE_URI": args.database_url,
                       "LMS_IDLE_TIMEOUT_MINUTES": "120"})
    os.environ.pop("LMS_TEST_DATABASE_URL", None)
    from lms import create_app
    from lms.accounts.demo import DEMO_PASSWORD

    app = create_app()
    if args.stages:
        stages(app, args.repeat)
        return
    client = app.test_client()
    reply = client.post("/api/v1/session", data=json.dumps({"username": "hr", "password": DEMO_PASSWORD}),
                        content_type="application/json")
    if reply.status_code != 200:
        raise SystemExit(f"login failed: {reply.status_code} {reply.get_data(as_text=True)[:300]}")
    download(client, "csv")  # warm up imports and caches
    for fmt in ("csv", "xlsx") if args.format == "both" else (args.format,):
        profiler = None if args.no_profile else cProfile.Profile()
        if profiler:
            profiler.enable()
        status, size, first, elapsed, cpu = download(client, fmt)
        if profiler:
            profiler.disable()
        print(f"\n{fmt}: {status}, {size / 1e6:.1f} MB, first chunk {first:.2f} s, whole body {elapsed:.2f} s, "
              f"CPU {cpu:.2f} s"
              f"{' (under cProfile)' if profiler else ''}; load {os.getloadavg()[0]:.2f}")
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
            print(out.getvalue())


if __name__ == "__main__":
    main()
