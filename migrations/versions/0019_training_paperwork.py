"""trainings: materials, evaluations

Revision ID: 0019_training_paperwork
Revises: 0018_exam_papers
Create Date: 2026-12-06 23:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import lms.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0019_training_paperwork'
down_revision = '0018_exam_papers'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
