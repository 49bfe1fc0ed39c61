"""drills: event-type/demand/measures/notified rules, review read marks, synonym proposals (no schema change)

Issue #14 needed no new column or table: the new rules and ``must_notify`` live in the drills' JSON
definitions, the inbox already keeps ``messages.read_at`` (its unread badge is a count over
ix_messages_user_unread that rides on the session's statement), precision is computed from
drill_reviews, and a synonym added in one click is a new drill version. The slot is left empty.

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
