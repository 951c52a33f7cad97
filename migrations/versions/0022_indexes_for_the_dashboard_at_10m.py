"""Two indexes for the dashboard at 10 M units: the received returns not closed yet by refund-due
date (a partial index; the refund-due risk list reads the returns due soon instead of every open
unit and its return), and the roll-up's sums over categories per partner, level first (the return
rate and the scorecard by partner read those cells instead of every per-product one).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 08:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('return_request', schema=None) as batch_op:
        batch_op.create_index('ix_return_request_received_due', ['refund_due_on', 'id', 'rma'], unique=False, sqlite_where=sa.text("status = 'received'"), postgresql_where=sa.text("status = 'received'"))

    with op.batch_alter_table('figure', schema=None) as batch_op:
        batch_op.create_index('ix_figure_summed', ['metric', 'category', 'partner_id', 'month', 'site_id', 'key', 'currency', 'count', 'amount_minor'], unique=False)


def downgrade():
    with op.batch_alter_table('figure', schema=None) as batch_op:
        batch_op.drop_index('ix_figure_summed')

    with op.batch_alter_table('return_request', schema=None) as batch_op:
        batch_op.drop_index('ix_return_request_received_due', sqlite_where=sa.text("status = 'received'"), postgresql_where=sa.text("status = 'received'"))
