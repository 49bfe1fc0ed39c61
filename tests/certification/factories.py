"""Factories for certification tests: programs and certificates, committed."""
from __future__ import annotations

import datetime as dt
import random

from lms.certification import services
from lms.certification.models import Program
from lms.extensions import db

NOW = dt.datetime(2026, 6, 3, 2, 0, tzinfo=dt.timezone.utc)  # 10:00 in Shanghai


def make_program(code: str = "WG-SG", title: str = "网格员上岗证", *, valid_months: int = 36, star: int | None = None,
                 requires: dict | None = None, position: int = 0, retired: bool = False) -> Program:
    program = Program(code=code, title=title, valid_months=valid_months, star=star, requires=requires or {},
                      position=position, is_retired=retired)
    db.session.add(program)
    db.session.commit()
    return program


def make_certificate(user, program, *, now: dt.datetime = NOW, actor=None, reason: str = "测试发证",
                     seed: int | None = None):
    rng = random.Random(seed) if seed is not None else services.secrets
    certificate = services.issue_certificate(actor, user, program, reason=reason, now=now, rng=rng)
    db.session.commit()
    return certificate
