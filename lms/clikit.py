"""What every CLI command shares: one transaction, begun IMMEDIATE, committed once."""
from __future__ import annotations

import functools

import click

from lms.db import write_intent
from lms.errors import LMSError
from lms.extensions import db


def transactional(fn):
    """Run fn in one write transaction; an LMSError becomes a Chinese message and exit 1."""

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        with write_intent():
            try:
                result = fn(*args, **kwargs)
                db.session.commit()
                return result
            except LMSError as exc:
                db.session.rollback()
                click.echo(f"错误：{exc.message}", err=True)
                raise SystemExit(1) from None
            except BaseException:
                db.session.rollback()
                raise

    return wrapped
