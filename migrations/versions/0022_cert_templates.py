"""certification: templates, status list

Revision ID: 0022_cert_templates
Revises: 0021_field_remediation
Create Date: 2026-12-06 23:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import lms.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0022_cert_templates'
down_revision = '0021_field_remediation'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
