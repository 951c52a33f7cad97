"""A partial index of the returns sent back with a proof of dispatch and not arrived, holding what
the refund-due risk list reads of them: at 10 M units the list read every parcel on its way (the
announced returns' index, then each row) to find the few with a proof.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 08:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

CONDITION = "status = 'announced' AND dispatch_proof_at IS NOT NULL"


def upgrade():
    with op.batch_alter_table('return_request', schema=None) as batch_op:
        batch_op.create_index('ix_return_request_dispatched', ['refund_due_on', 'id', 'rma', 'site_id', 'partner_id'], unique=False, sqlite_where=sa.text(CONDITION), postgresql_where=sa.text(CONDITION))


def downgrade():
    with op.batch_alter_table('return_request', schema=None) as batch_op:
        batch_op.drop_index('ix_return_request_dispatched', sqlite_where=sa.text(CONDITION), postgresql_where=sa.text(CONDITION))
