"""Field points and training outcomes on a county's year of grid-platform events (issue #19 items 4 and 3).

Usage: python bench/field_training.py [--events 200000] [--workers 2000] [--treated 300] [--database-url EMPTY-DB-URL]
Makes a fresh database (SQLite in a temporary folder unless --database-url) with the demo county, `workers`
accounts and the generated year (bench/field_import.py's helpers), gives `treated` of them a remediation on a
random day of the year, then times in-process: `award_field_points` on an empty ledger and again (nothing new),
and the outcome analyses for the county and one township, cold and from the per-process cache.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.field_import import make_people, write_year  # noqa: E402


def run(folder: Path, *, events: int, workers: int, treated: int, database_url: str | None = None) -> dict:
    env = {**os.environ, "LMS_SECRET_KEY": "bench",
           "LMS_SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{folder}/training.sqlite3"}
    env.pop("LMS_TEST_DATABASE_URL", None)
    flask = [sys.executable, "-m", "flask", "--app", "lms"]
    subprocess.run(flask + ["db", "upgrade"], env=env, cwd=ROOT, capture_output=True, check=True)
    make_people(env, workers)
    year = folder / "year.csv"
    write_year(year, events, workers)
    done = subprocess.run(flask + ["field", "import", str(year)], env=env, cwd=ROOT, capture_output=True, text=True)
    print("import:", done.stdout.strip() or done.stderr[-500:])

    import sqlalchemy as sa

    from lms import create_app
    from lms.accounts.models import User
    from lms.extensions import db
    from lms.field import outcomes
    from lms.field.points import award_field_points
    from lms.field.remediation_models import Remediation
    from lms.org.queries import get_org
    from lms.points.services import set_point_rules

    figures = {}
    with create_app().app_context():
        set_point_rules({"field_closed": 1, "field_returned": 1, "field_satisfaction": 1})
        rng = random.Random(19)
        today = dt.date.today()
        people = db.session.execute(sa.select(User.id, User.org_id).where(User.username.like("w%"))
                                    .order_by(User.id).limit(treated)).all()
        for uid, org_id in people:
            start = today - dt.timedelta(days=rng.randint(100, 260))
            db.session.add(Remediation(user_id=uid, org_id=org_id, started_on=start, due_on=start,
                                       period_from=start, period_to=start, problems=[], events=0))
        db.session.commit()
        for label in ("points, empty ledger", "points, again"):
            started = time.perf_counter()
            result = award_field_points()
            db.session.commit()
            figures[label] = time.perf_counter() - started
            print(f"{label}: {figures[label]:.1f} s ({result['entries']:,} entries, {result['people']:,} people)")
        for code, label in (("HX", "outcomes, county"), ("HX01", "outcomes, township"), ("HX", "outcomes, cached")):
            started = time.perf_counter()
            found = outcomes.analyses(get_org(code))
            figures[label] = time.perf_counter() - started
            print(f"{label}: {figures[label]:.2f} s "
                  + "; ".join(f"{a.key} {r.treated} treated, {r.controls} controls, {r.claim}" for a, r in found))
        db.session.remove()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2000)
    parser.add_argument("--treated", type=int, default=300)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lms-field-training-") as folder:
        os.environ.update({"LMS_SECRET_KEY": "bench", "LMS_SQLALCHEMY_DATABASE_URI":
                           args.database_url or f"sqlite:///{folder}/training.sqlite3"})
        os.environ.pop("LMS_TEST_DATABASE_URL", None)
        run(Path(folder), events=args.events, workers=args.workers, treated=args.treated,
            database_url=args.database_url)


if __name__ == "__main__":
    main()
