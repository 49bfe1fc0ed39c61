"""drills: event-type/demand/measures/notified rules, review read marks, synonym proposals

Revision ID: 0015_drill_rules_inbox
Revises: 0014_user_preferences
Create Date: 2026-12-06 23:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import lms.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0015_drill_rules_inbox'
down_revision = '0014_user_preferences'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
