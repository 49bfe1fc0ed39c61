"""Benchmark: export 100,000 certificate rows as CSV and XLSX (DESIGN.md: CSV ≤ 2 s, XLSX ≤ 8 s, RSS ≤ 200 MB).

Usage: python bench/export_bench.py [--rows N] [csv|xlsx ...]
Each format runs in its own process so its peak RSS is its own. Rows are
generated lazily, as a streaming query would hand them over.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lms.reports.exports import (  # noqa: E402  (path set above so the script runs from anywhere)
    CERTIFICATE_COLUMNS,
    CERTIFICATE_WIDTHS,
    CertificateExportRecord,
    certificate_rows,
    iter_csv,
    iter_xlsx,
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗欧阳"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国"
PLACES = [("青石镇", "桃源村", "桃源村第一网格"), ("青石镇", "石桥村", "石桥村第一网格"),
          ("城关街道", "和平社区", "和平社区第一网格"), ("城关街道", "南关社区", "南关社区第二网格")]
PROGRAMS = ["网格员上岗证", "一星级网格员", "二星级网格员", "三星级网格员", "四星级网格员", "五星级网格员"]
STATUSES = ["valid", "valid", "valid", "expired", "revoked"]


def fake_records(n: int, seed: int = 1):
    """n plausible certificate records, generated one at a time.

    Names, ID numbers and phones come from pools drawn once, so the bench
    measures the export and not the random generator.
    """
    rng = random.Random(seed)
    names = [rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
             for _ in range(997)]
    id_cards = [str(rng.randrange(10**17, 10**18)) for _ in range(1009)]
    phones = [f"1{rng.randrange(3 * 10**9, 10 * 10**9)}" for _ in range(1013)]
    start = dt.date(2024, 1, 1)
    days = [start + dt.timedelta(days=d) for d in range(900)]
    year = dt.timedelta(days=365)
    for i in range(n):
        township, village, grid = PLACES[i % len(PLACES)]
        issued = days[(i * 7919) % 900]
        yield CertificateExportRecord(
            name=names[i % 997],
            username=f"HX{i:06d}",
            township=township, village=village, grid=grid,
            program_title=PROGRAMS[i % len(PROGRAMS)],
            number=f"WG-SG-{issued.year}-{i:06d}",
            issued=issued,
            expires=issued + year,
            status=STATUSES[i % len(STATUSES)],
            points=(i * 37) % 600,
            star=i % 6,
            id_card=id_cards[i % 1009],
            phone=phones[i % 1013],
        )


def run(fmt: str, rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        target = os.path.join(tmp, f"out.{fmt}")
        before = resource.getrusage(resource.RUSAGE_SELF)
        cpu_before = before.ru_utime + before.ru_stime
        started = time.perf_counter()
        with open(target, "wb") as out:
            if fmt == "csv":
                stream = iter_csv(CERTIFICATE_COLUMNS, certificate_rows(fake_records(rows), pii=False))
            else:
                stream = iter_xlsx(CERTIFICATE_COLUMNS, certificate_rows(fake_records(rows), pii=False), "证书",
                                   widths=CERTIFICATE_WIDTHS)
            for chunk in stream:
                out.write(chunk)
        elapsed = time.perf_counter() - started
        size = os.path.getsize(target)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    peak_mb = usage.ru_maxrss / 1024  # KiB on Linux
    print(f"{fmt:4s} {rows:>7,} rows  {elapsed:6.2f} s wall  {cpu:6.2f} s CPU  {size / 1e6:6.1f} MB file  "
          f"peak RSS {peak_mb:6.1f} MB")


def baseline(rows: int) -> None:
    """Time to generate the fake rows alone, so the formats' own cost can be read off."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    for _ in certificate_rows(fake_records(rows), pii=False):
        pass
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
    print(f"rows {rows:>7,} rows  {elapsed:6.2f} s wall  {cpu:6.2f} s CPU  (generating the rows only)  "
          f"peak RSS {usage.ru_maxrss / 1024:6.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("formats", nargs="*", help="rows, csv and/or xlsx (default: all three)")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    unknown = set(args.formats) - {"rows", "csv", "xlsx"}
    if unknown:
        parser.error(f"unknown format(s): {', '.join(sorted(unknown))}")
    if len(args.formats) == 1:
        if args.formats[0] == "rows":
            baseline(args.rows)
        else:
            run(args.formats[0], args.rows)
        return
    for fmt in args.formats or ["rows", "csv", "xlsx"]:
        subprocess.run([sys.executable, __file__, fmt, "--rows", str(args.rows)], check=True)


if __name__ == "__main__":
    main()
