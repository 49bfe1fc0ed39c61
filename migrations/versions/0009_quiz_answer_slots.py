"""quizzes: answer slots on attempts (autosave validates against them instead of decoding the paper)

NULL for attempts started before: the code derives the slots from their paper.

Revision ID: 0009_quiz_answer_slots
Revises: 0008_certification
Create Date: 2026-11-28 01:19:53.914649

"""
from alembic import op
import sqlalchemy as sa

import lms.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0009_quiz_answer_slots'
down_revision = '0008_certification'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answer_slots', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.drop_column('answer_slots')
