"""trainings: materials, evaluations

Revision ID: 0017_training_paperwork
Revises: 0016_exam_papers
Create Date: 2026-12-06 23:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import lms.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0017_training_paperwork'
down_revision = '0016_exam_papers'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('training_materials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('training_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('file', 'lesson', name='materialkind', native_enum=False, length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=True),
    sa.Column('content_type', sa.String(length=100), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('lesson_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lms.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_training_materials_created_by_id_users')),
    sa.ForeignKeyConstraint(['lesson_id'], ['lessons.id'], name=op.f('fk_training_materials_lesson_id_lessons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['training_id'], ['trainings.id'], name=op.f('fk_training_materials_training_id_trainings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_materials'))
    )
    with op.batch_alter_table('training_materials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_materials_training_id'), ['training_id'], unique=False)

    op.create_table('training_evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('training_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.SmallInteger(), nullable=False),
    sa.Column('clarity', sa.SmallInteger(), nullable=False),
    sa.Column('schedule', sa.SmallInteger(), nullable=False),
    sa.Column('materials', sa.SmallInteger(), nullable=False),
    sa.Column('overall', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('submitted_at', lms.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['org_units.id'], name=op.f('fk_training_evaluations_org_id_org_units')),
    sa.ForeignKeyConstraint(['training_id'], ['trainings.id'], name=op.f('fk_training_evaluations_training_id_trainings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_training_evaluations_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_evaluations')),
    sa.UniqueConstraint('training_id', 'user_id', name=op.f('uq_training_evaluations_training_id_user_id'))
    )
    with op.batch_alter_table('training_evaluations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_evaluations_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_evaluations_training_id'), ['training_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_evaluations_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('training_evaluations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_evaluations_user_id'))
        batch_op.drop_index(batch_op.f('ix_training_evaluations_training_id'))
        batch_op.drop_index(batch_op.f('ix_training_evaluations_org_id'))

    op.drop_table('training_evaluations')
    with op.batch_alter_table('training_materials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_materials_training_id'))

    op.drop_table('training_materials')
