"""Import of a county's year of grid-platform events (issue #19): 200,000 rows in under 30 s, memory flat.

Usage: python bench/field_import.py [--events 200000] [--workers 2000] [--database-url EMPTY-DB-URL] [--xlsx]
Makes a fresh database (SQLite in a temporary folder unless --database-url) with the demo county and `workers`
accounts (工号 w00001…, written directly: no password hashing), writes the generated year as CSV (and XLSX with
--xlsx), then times `flask field import` in a subprocess twice (fresh, then unchanged) and reads its peak RSS. The
same import of a tenth of the rows gives the memory baseline: flat means the peak hardly grows with the file.
Also a row of bench/run.py (`--only field`).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: DESIGN.md-style targets of issue #19
TARGET_SECONDS = 30.0
#: the 200k import's peak RSS may exceed the 20k import's by at most this much (MB): memory flat
FLAT_MB = 40


def make_people(env: dict, workers: int) -> None:
    """The demo county's orgs and `workers` accounts spread over its grids, inserted directly."""
    os.environ.update({k: v for k, v in env.items() if k.startswith("LMS_")})
    from lms import create_app
    from lms.accounts.demo import DEMO_ORGS
    from lms.accounts.models import User
    from lms.db import utcnow
    from lms.extensions import db
    from lms.org.models import OrgKind
    from lms.org.queries import get_org
    from lms.org.services import create_org

    app = create_app()
    with app.app_context():
        for code, name, kind, parent_code, households, grid_type in DEMO_ORGS:
            if get_org(code) is None:
                create_org(code, name, kind, get_org(parent_code) if parent_code else None, households, grid_type)
        db.session.flush()
        grids = [get_org(code).id for code, _, kind, *_ in DEMO_ORGS if kind == OrgKind.grid]
        now = utcnow()
        db.session.execute(db.insert(User), [
            {"username": f"w{i:05d}", "name": f"网格员{i}", "org_id": grids[i % len(grids)], "password_hash": "",
             "must_change_password": True, "is_demo": False, "created_at": now, "status": "active"}
            for i in range(1, workers + 1)])
        db.session.commit()
        db.engine.dispose()


def write_year(path: Path, events: int, workers: int, *, xlsx: bool = False, prefix: str = "SJ") -> int:
    from lms.field import generate

    rows = generate.year_rows([f"w{i:05d}" for i in range(1, workers + 1)], events=events, seed=2026, prefix=prefix)
    if not xlsx:
        with path.open("w", encoding="utf-8", newline="") as stream:
            return generate.write_csv(stream, rows)
    from openpyxl import Workbook

    from lms.field.importer import COLUMNS
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(COLUMNS)
    count = 0
    for row in rows:
        sheet.append([row[c] for c in COLUMNS])
        count += 1
    book.save(path)
    return count


def timed_import(env: dict, path: Path) -> dict:
    """`flask field import` in a child: wall seconds, its peak RSS (MB) and its summary line."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path)], env=env, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit("field import failed:\n" + done.stderr[-2000:])
    lines = done.stdout.strip().splitlines()
    return {"seconds": seconds, "peak_mb": int(lines[-1]) / 1024, "cpu": float(lines[-2]), "summary": lines[-3]}


#: the child runs the CLI command in-process and prints its CPU seconds (start-up included), then its peak RSS (KB)
_CHILD = """
import resource, sys
from flask.cli import ScriptInfo
from lms import create_app
from lms.field.cli import field_cli
app = create_app()
try:
    field_cli.main(["import", sys.argv[1]], obj=ScriptInfo(create_app=lambda: app), standalone_mode=False)
except SystemExit:
    pass
usage = resource.getrusage(resource.RUSAGE_SELF)
print(f"{usage.ru_utime + usage.ru_stime:.2f}")
print(usage.ru_maxrss)
"""


def run(folder: Path, *, events: int = 200_000, workers: int = 2000, database_url: str | None = None,
        xlsx: bool = False, log=print) -> dict:
    """Fresh database, generated files, the timed imports; returns the figures."""
    env = {**os.environ, "LMS_SECRET_KEY": "bench",
           "LMS_SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{folder}/field.sqlite3"}
    env.pop("LMS_TEST_DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "flask", "--app", "lms", "db", "upgrade"], env=env, cwd=ROOT,
                   capture_output=True, check=True)
    make_people(env, workers)
    small, big = folder / "small.csv", folder / ("year.xlsx" if xlsx else "year.csv")
    write_year(small, events // 10, workers, prefix="XS")  # numbers of its own: no clash with the year
    started = time.perf_counter()
    count = write_year(big, events, workers, xlsx=xlsx)
    log(f"field import: {count:,} events written to {big.name} ({big.stat().st_size / 1e6:.1f} MB) in "
        f"{time.perf_counter() - started:.1f} s")
    baseline = timed_import(env, small)
    fresh = timed_import(env, big)
    again = timed_import(env, big)
    result = {"events": count, "baseline": baseline, "fresh": fresh, "again": again, "format": big.suffix[1:],
              "load": os.getloadavg()[0]}
    log(f"field import: {count:,} events {fresh['seconds']:.1f} s, CPU {fresh['cpu']:.1f} s ({fresh['summary']}), peak RSS "
        f"{fresh['peak_mb']:.0f} MB (a tenth of the rows: {baseline['peak_mb']:.0f} MB); unchanged re-import "
        f"{again['seconds']:.1f} s ({again['summary']})")
    return result


def table_lines(result: dict) -> list[str]:
    fresh, again, baseline = result["fresh"], result["again"], result["baseline"]
    flat = fresh["peak_mb"] - baseline["peak_mb"] <= FLAT_MB
    ok = fresh["seconds"] <= TARGET_SECONDS and flat
    return [f"| field import, {result['events']:,} platform events ({result['format'].upper()}, CLI; CPU "
            f"{fresh['cpu']:.1f} s; peak RSS {fresh['peak_mb']:.0f} MB, with a tenth of the rows "
            f"{baseline['peak_mb']:.0f} MB) | "
            f"{fresh['seconds']:.1f} s | | ≤ {TARGET_SECONDS:g} s, memory flat{' ✓' if ok else ' ✗'} | | | | "
            f"{result['load']:.2f} |",
            f"| unchanged re-import of the same events (CPU {again['cpu']:.1f} s) | {again['seconds']:.1f} s "
            f"| | | | | | |"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2000)
    parser.add_argument("--database-url", help="an EMPTY database (default: SQLite in a temporary folder)")
    parser.add_argument("--xlsx", action="store_true", help="import an XLSX file instead of CSV")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = run(Path(tmp), events=args.events, workers=args.workers, database_url=args.database_url,
                     xlsx=args.xlsx)
    print("\n" + "\n".join(table_lines(result)))


if __name__ == "__main__":
    main()
