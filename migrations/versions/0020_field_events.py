"""field: the grid platform's event outcomes

Revision ID: 0020_field_events
Revises: 0019_training_paperwork
Create Date: 2026-12-06 23:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import lms.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0020_field_events'
down_revision = '0019_training_paperwork'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
