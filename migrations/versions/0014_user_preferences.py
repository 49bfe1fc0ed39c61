"""accounts: reading preferences per person (大字, read-aloud speed), not per device

Revision ID: 0014_user_preferences
Revises: 0013_checkin_failures
Create Date: 2026-12-06 21:00:00

"""
from alembic import op
import sqlalchemy as sa

import lms.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0014_user_preferences'
down_revision = '0013_checkin_failures'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'user_preferences',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('large_text', sa.Boolean(), nullable=True),
        sa.Column('speech_rate', sa.Float(), nullable=True),
        sa.Column('updated_at', lms.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_preferences_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_user_preferences')),
    )


def downgrade():
    op.drop_table('user_preferences')
