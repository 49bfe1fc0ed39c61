"""field: the grid platform's event outcomes and their import runs

Revision ID: 0018_field_events
Revises: 0017_training_paperwork
Create Date: 2026-12-06 23:00:00

"""
from alembic import op
import sqlalchemy as sa

import lms.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0018_field_events'
down_revision = '0017_training_paperwork'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'field_imports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('created_at', lms.db.UTCDateTime(), nullable=False),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_field_imports_actor_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_field_imports')),
    )
    with op.batch_alter_table('field_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_imports_actor_id'), ['actor_id'], unique=False)
    op.create_table(
        'field_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('reported_at', lms.db.UTCDateTime(), nullable=False),
        sa.Column('event_type', sa.String(length=64), nullable=False),
        sa.Column('result', sa.String(length=8), nullable=False),
        sa.Column('return_reason', sa.String(length=32), nullable=True),
        sa.Column('satisfaction', sa.SmallInteger(), nullable=True),
        sa.Column('import_id', sa.Integer(), nullable=True),
        sa.Column('created_at', lms.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['import_id'], ['field_imports.id'],
                                name=op.f('fk_field_events_import_id_field_imports')),
        sa.ForeignKeyConstraint(['org_id'], ['org_units.id'], name=op.f('fk_field_events_org_id_org_units')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_field_events_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_field_events')),
        sa.UniqueConstraint('number', name=op.f('uq_field_events_number')),
    )
    with op.batch_alter_table('field_events', schema=None) as batch_op:
        batch_op.create_index('ix_field_events_org_reported', ['org_id', 'reported_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_events_reported_at'), ['reported_at'], unique=False)
        batch_op.create_index('ix_field_events_user_reported', ['user_id', 'reported_at'], unique=False)


def downgrade():
    with op.batch_alter_table('field_events', schema=None) as batch_op:
        batch_op.drop_index('ix_field_events_user_reported')
        batch_op.drop_index(batch_op.f('ix_field_events_reported_at'))
        batch_op.drop_index('ix_field_events_org_reported')
    op.drop_table('field_events')
    with op.batch_alter_table('field_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_imports_actor_id'))
    op.drop_table('field_imports')
