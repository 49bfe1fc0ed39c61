"""trainings: wrong check-in codes per person (at most 10 a minute, then 429)

Revision ID: 0013_checkin_failures
Revises: 0012_quiz_retake_windows
Create Date: 2026-12-06 20:30:00

"""
from alembic import op
import sqlalchemy as sa

import lms.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0013_checkin_failures'
down_revision = '0012_quiz_retake_windows'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'checkin_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('training_id', sa.Integer(), nullable=False),
        sa.Column('failed_at', lms.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['training_id'], ['trainings.id'],
                                name=op.f('fk_checkin_failures_training_id_trainings'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_checkin_failures_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_failures')),
    )
    op.create_index('ix_checkin_failures_user_failed_at', 'checkin_failures', ['user_id', 'failed_at'], unique=False)


def downgrade():
    op.drop_index('ix_checkin_failures_user_failed_at', table_name='checkin_failures')
    op.drop_table('checkin_failures')
