"""quizzes: 补考 after a wait (retake_after_days) and a window open every year (annual_opens/annual_closes)

Revision ID: 0012_quiz_retake_windows
Revises: 0011_import_uploads
Create Date: 2026-12-06 20:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_quiz_retake_windows'
down_revision = '0011_import_uploads'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quizzes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retake_after_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('annual_opens', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('annual_closes', sa.String(length=5), nullable=True))


def downgrade():
    with op.batch_alter_table('quizzes', schema=None) as batch_op:
        batch_op.drop_column('annual_closes')
        batch_op.drop_column('annual_opens')
        batch_op.drop_column('retake_after_days')
