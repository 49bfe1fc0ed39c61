"""County-scale data for the benchmarks: org tree and workers with ONE reused password hash.

Hashing 2,000 (or 200,000) passwords at argon2id's production cost would take
minutes to hours; every generated worker gets the same hash of BENCH_PASSWORD.
Feature data (progress, attempts) is added by the generators in FEATURE_GENERATORS.
"""
from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from lms.accounts.models import OrgMembership, Role, RoleGrant, User
from lms.accounts.passwords import hash_password
from lms.db import utcnow
from lms.extensions import db
from lms.org.models import GridType, OrgKind, OrgUnit
from lms.org.queries import get_org
from lms.org.services import create_org

BENCH_PASSWORD = "Bench-Pass-2026"


def ensure_orgs(townships: int, villages: int, grids: int) -> list[OrgUnit]:
    """Extra townships/villages/grids under the demo county HX; returns every grid."""
    county = get_org("HX")
    grids_out = []
    for t in range(1, townships + 1):
        town = get_org(f"B{t:02d}") or create_org(f"B{t:02d}", f"测试镇{t}", OrgKind.township, county)
        for v in range(1, villages + 1):
            code = f"B{t:02d}{v:02d}"
            village = get_org(code) or create_org(code, f"测试镇{t}第{v}村", OrgKind.village, town)
            for g in range(1, grids + 1):
                gcode = f"{code}{g:02d}"
                grid = get_org(gcode) or create_org(gcode, f"{village.name}网格{g}", OrgKind.grid, village, 300,
                                                    GridType.rural)
                grids_out.append(grid)
    db.session.flush()
    return grids_out


def generate_workers(count: int, grids: list[OrgUnit], rng: random.Random, batch: int = 5000) -> list[str]:
    """count workers spread over grids, bulk-inserted; returns their usernames."""
    password_hash = hash_password(BENCH_PASSWORD)
    now = utcnow()
    usernames = []
    for start in range(0, count, batch):
        rows = []
        for i in range(start, min(count, start + batch)):
            grid = grids[i % len(grids)]
            username = f"bw{i:06d}"
            usernames.append(username)
            rows.append({"username": username, "name": f"测试员{i}", "org_id": grid.id,
                         "birth_date": dt.date(1960 + rng.randrange(40), 1 + rng.randrange(12), 1 + rng.randrange(28)),
                         "education": rng.choice(["高中", "中专", "大专", "本科"]),
                         "hired_on": dt.date(2010 + rng.randrange(16), 3, 1), "status": "active",
                         "password_hash": password_hash, "must_change_password": False, "is_demo": True,
                         "created_at": now})
        db.session.execute(sa.insert(User), rows)
        ids = dict(db.session.execute(sa.select(User.username, User.id)
                                      .where(User.username.in_([r["username"] for r in rows]))).all())
        org_of = {r["username"]: r["org_id"] for r in rows}
        db.session.execute(sa.insert(RoleGrant), [{"user_id": ids[u], "role": Role.worker, "org_id": org_of[u]}
                                                  for u in ids])
        db.session.execute(sa.insert(OrgMembership), [{"user_id": ids[u], "org_id": org_of[u], "started_at": now}
                                                      for u in ids])
    return usernames


#: name -> fn(usernames, rng) adding feature data; features append theirs as they land
FEATURE_GENERATORS: dict = {}


def generate(workers: int, seed: int = 7) -> list[str]:
    """The whole county: orgs, workers, then every feature generator; commits."""
    rng = random.Random(seed)
    townships = max(1, min(20, workers // 400))
    grids = ensure_orgs(townships, 5, 4)
    usernames = generate_workers(workers, grids, rng)
    db.session.commit()
    for name, fn in FEATURE_GENERATORS.items():
        fn(usernames, rng)
        db.session.commit()
    return usernames
