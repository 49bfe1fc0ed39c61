"""consultations: consultation drills (政策答询), workers' answers and trainers' reviews

Revision ID: 0015_consultations
Revises: 0014_user_preferences
Create Date: 2026-12-06 23:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import lms.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0015_consultations'
down_revision = '0014_user_preferences'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consultations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('question_html', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('source_path', sa.String(length=300), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('is_retired', sa.Boolean(), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', lms.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['org_units.id'], name=op.f('fk_consultations_org_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultations')),
    sa.UniqueConstraint('code', name=op.f('uq_consultations_code'))
    )
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultations_org_id'), ['org_id'], unique=False)

    op.create_table('consultation_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('consultation_version', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('verdict', sa.Enum('accepted', 'returned', name='verdict', native_enum=False, length=16), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('checks', sa.JSON(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_consultation_answers_consultation_id_consultations')),
    sa.ForeignKeyConstraint(['org_id'], ['org_units.id'], name=op.f('fk_consultation_answers_org_id_org_units')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_consultation_answers_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_answers')),
    sa.UniqueConstraint('user_id', 'client_id', name=op.f('uq_consultation_answers_user_id_client_id'))
    )
    with op.batch_alter_table('consultation_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_answers_consultation_id'), ['consultation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consultation_answers_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_consultation_answers_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_consultation_answers_user_consultation', ['user_id', 'consultation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consultation_answers_user_id'), ['user_id'], unique=False)

    op.create_table('consultation_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('verdict', sa.Enum('accepted', 'returned', name='verdict', native_enum=False, length=16), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['consultation_answers.id'], name=op.f('fk_consultation_reviews_answer_id_consultation_answers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_consultation_reviews_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_reviews'))
    )
    with op.batch_alter_table('consultation_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_reviews_answer_id'), ['answer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('consultation_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_reviews_answer_id'))
    op.drop_table('consultation_reviews')
    with op.batch_alter_table('consultation_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_answers_user_id'))
        batch_op.drop_index('ix_consultation_answers_user_consultation')
        batch_op.drop_index(batch_op.f('ix_consultation_answers_org_id'))
        batch_op.drop_index(batch_op.f('ix_consultation_answers_created_at'))
        batch_op.drop_index(batch_op.f('ix_consultation_answers_consultation_id'))
    op.drop_table('consultation_answers')
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultations_org_id'))
    op.drop_table('consultations')
