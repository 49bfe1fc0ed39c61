"""The generated year: seeded, realistic rates, the effect it builds in, and the demo county's load."""
from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa

from lms.accounts.demo import ensure_demo
from lms.errors import ValidationError
from lms.extensions import db
from lms.field import generate
from lms.field.models import FieldEvent, FieldImport
from lms.field.services import import_bytes
from tests.factories import make_user

END = dt.date(2026, 6, 30)


def test_the_same_seed_gives_the_same_year_and_rates_near_the_county_means():
    rows = list(generate.year_rows([f"w{i}" for i in range(200)], events=40_000, seed=7, end=END))
    assert rows[:50] == list(generate.year_rows([f"w{i}" for i in range(200)], events=40_000, seed=7, end=END))[:50]
    assert 38_000 < len(rows) < 42_000 and len({r["事件编号"] for r in rows}) == len(rows)
    share = {result: sum(r["结果"] == result for r in rows) / len(rows) for result in ("退回", "重复", "超时")}
    assert 0.08 < share["退回"] < 0.16 and 0.06 < share["重复"] < 0.11 and share["超时"] < 0.03
    assert rows[0]["上报时间"] >= "2025-07-01" and rows[-1]["上报时间"] < "2026-07-01"
    assert all(r["退回原因"] in generate.RETURN_REASONS for r in rows if r["结果"] == "退回")


def test_workers_with_a_start_date_improve_by_the_effect_and_the_others_do_not():
    start = dt.date(2026, 1, 1)
    treated = [generate.Worker(f"t{i}", improves_on=start, improvement=generate.MENTEE_EFFECT) for i in range(150)]
    control = [generate.Worker(f"c{i}") for i in range(150)]
    rows = list(generate.year_rows(treated + control, events=120_000, seed=3, end=END))

    def rate(prefix, after):
        picked = [r for r in rows if r["工号"].startswith(prefix) and (r["上报时间"] >= "2026-01-01") == after]
        return sum(r["结果"] == "退回" for r in picked) / len(picked)

    treated_ratio = rate("t", True) / rate("t", False)
    control_ratio = rate("c", True) / rate("c", False)
    assert abs(treated_ratio - (1 - generate.MENTEE_EFFECT)) < 0.1
    assert abs(control_ratio - 1) < 0.1


def test_a_generated_csv_imports_cleanly(app, tree):
    make_user("w1", "worker", tree["g1"])
    make_user("w2", "worker", tree["g2"])
    out = io.StringIO()
    count = generate.write_csv(out, generate.year_rows(["w1", "w2"], events=3000, seed=1, end=END))
    report = import_bytes(out.getvalue().encode(), "year.csv")
    db.session.commit()
    assert (report.added, report.error_count) == (count, 0)


def test_demo_year_loads_once_with_a_mentored_group(app):
    ensure_demo()
    db.session.commit()
    report = generate.load_demo_year()
    db.session.commit()
    assert report.added > 5000 and report.error_count == 0
    assert generate.load_demo_year() is None  # once
    reporters = db.session.scalar(sa.select(sa.func.count(sa.distinct(FieldEvent.user_id))))
    assert reporters == len(generate.DEMO_REPORTERS) + generate.DEMO_EXTRA_WORKERS
    from lms.mentoring.models import PairingMentee
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PairingMentee)) == 2
    assert db.session.scalar(sa.select(FieldImport.source)) == "demo"


def test_demo_year_refuses_a_database_with_real_accounts(app, tree):
    make_user("real", "worker", tree["g1"])
    with pytest.raises(ValidationError):
        generate.load_demo_year()
