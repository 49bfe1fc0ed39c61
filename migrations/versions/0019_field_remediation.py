"""field: remediation and outcome tracking

Revision ID: 0019_field_remediation
Revises: 0018_field_events
Create Date: 2026-12-06 23:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import lms.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0019_field_remediation'
down_revision = '0018_field_events'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'field_needs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('need', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('code', sa.String(length=80), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('updated_at', lms.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_field_needs')),
        sa.UniqueConstraint('need', 'kind', 'code', name=op.f('uq_field_needs_need_kind_code')),
    )
    op.create_table(
        'field_remediations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('started_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('period_from', sa.Date(), nullable=False),
        sa.Column('period_to', sa.Date(), nullable=False),
        sa.Column('problems', sa.JSON(), nullable=False),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', lms.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_field_remediations_user_id_users')),
        sa.ForeignKeyConstraint(['org_id'], ['org_units.id'], name=op.f('fk_field_remediations_org_id_org_units')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_field_remediations_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_field_remediations')),
    )
    with op.batch_alter_table('field_remediations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_remediations_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_remediations_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_remediations_started_on'), ['started_on'], unique=False)
    op.create_table(
        'field_remediation_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('remediation_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('code', sa.String(length=80), nullable=False),
        sa.Column('need', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['remediation_id'], ['field_remediations.id'],
                                name=op.f('fk_field_remediation_items_remediation_id_field_remediations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_field_remediation_items')),
        sa.UniqueConstraint('remediation_id', 'kind', 'code', name=op.f('uq_field_remediation_items_remediation_id_kind_code')),
    )
    with op.batch_alter_table('field_remediation_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_remediation_items_remediation_id'), ['remediation_id'],
                              unique=False)


def downgrade():
    op.drop_table('field_remediation_items')
    op.drop_table('field_remediations')
    op.drop_table('field_needs')
