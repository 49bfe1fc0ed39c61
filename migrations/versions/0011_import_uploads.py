"""accounts: uploads previewed before they are applied, and the password sheet that downloads once

Revision ID: 0011_import_uploads
Revises: 0010_quiz_attempt_grants
Create Date: 2026-12-06 20:10:00

"""
from alembic import op
import sqlalchemy as sa

import lms.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0011_import_uploads'
down_revision = '0010_quiz_attempt_grants'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'import_uploads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=True),
        sa.Column('created_at', lms.db.UTCDateTime(), nullable=False),
        sa.Column('applied_at', lms.db.UTCDateTime(), nullable=True),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('password_sheet', sa.LargeBinary(), nullable=True),
        sa.Column('sheet_taken_at', lms.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_import_uploads_actor_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_uploads')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_import_uploads_key_hash')),
    )
    with op.batch_alter_table('import_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_uploads_actor_id'), ['actor_id'], unique=False)


def downgrade():
    with op.batch_alter_table('import_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_uploads_actor_id'))
    op.drop_table('import_uploads')
