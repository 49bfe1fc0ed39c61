"""authoring: generated codes, lesson images

Revision ID: 0017_authoring_codes
Revises: 0016_consultations
Create Date: 2026-12-06 23:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import lms.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0017_authoring_codes'
down_revision = '0016_consultations'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
