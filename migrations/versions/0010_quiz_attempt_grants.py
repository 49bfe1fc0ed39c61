"""quizzes: 补考 — extra attempts granted to one learner for one quiz, with a reason

Revision ID: 0010_quiz_attempt_grants
Revises: 0009_quiz_answer_slots
Create Date: 2026-12-06 20:10:00

"""
from alembic import op
import sqlalchemy as sa

import lms.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0010_quiz_attempt_grants'
down_revision = '0009_quiz_answer_slots'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('quiz_attempt_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quiz_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('extra_attempts', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('granted_at', lms.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_quiz_attempt_grants_granted_by_id_users')),
    sa.ForeignKeyConstraint(['quiz_id'], ['quizzes.id'], name=op.f('fk_quiz_attempt_grants_quiz_id_quizzes')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_quiz_attempt_grants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_attempt_grants'))
    )
    with op.batch_alter_table('quiz_attempt_grants', schema=None) as batch_op:
        batch_op.create_index('ix_quiz_attempt_grants_quiz_id_user_id', ['quiz_id', 'user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quiz_attempt_grants_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('quiz_attempt_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_attempt_grants_user_id'))
        batch_op.drop_index('ix_quiz_attempt_grants_quiz_id_user_id')

    op.drop_table('quiz_attempt_grants')
