"""certification: per-program certificate templates, revocation status-list index, task heartbeat

Revision ID: 0020_cert_templates
Revises: 0019_field_remediation
Create Date: 2026-12-06 23:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import lms.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0020_cert_templates'
down_revision = '0019_field_remediation'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('cert_programs', sa.Column('template', sa.JSON(), nullable=True))
    op.add_column('certificates', sa.Column('status_index', sa.Integer(), nullable=True))
    # Certificates issued before get a bit each (their id is unique); new ones a random free bit.
    op.execute("UPDATE certificates SET status_index = id")
    op.create_index('ix_certificates_status_index', 'certificates', ['status_index'], unique=True)
    op.create_table(
        'task_runs',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('started_at', lms.db.UTCDateTime(), nullable=False),
        sa.Column('finished_at', lms.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade():
    op.drop_table('task_runs')
    op.drop_index('ix_certificates_status_index', table_name='certificates')
    with op.batch_alter_table('certificates') as batch:
        batch.drop_column('status_index')
    with op.batch_alter_table('cert_programs') as batch:
        batch.drop_column('template')
