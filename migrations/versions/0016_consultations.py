"""drills: consultation drills (政策答询)

Revision ID: 0016_consultations
Revises: 0015_drill_rules_inbox
Create Date: 2026-12-06 23:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import lms.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0016_consultations'
down_revision = '0015_drill_rules_inbox'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
