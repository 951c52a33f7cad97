"""Refunds approved before payments were recorded count as paid when they were approved (by the
payer the partner's agreement names), so they do not all appear overdue on the refund-due list.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 15:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "UPDATE unit SET refund_paid_at = refund_decided_at, "
        "refund_paid_by = (SELECT partner.refund_paid_by FROM partner "
        "WHERE partner.id = unit.partner_id), "
        "refund_payment_ref = 'approved before payments were recorded' "
        "WHERE refund_state = 'approved' AND refund_paid_at IS NULL "
        "AND refund_decided_at IS NOT NULL"
    )


def downgrade():
    op.execute(
        "UPDATE unit SET refund_paid_at = NULL, refund_paid_by = NULL, refund_payment_ref = NULL "
        "WHERE refund_payment_ref = 'approved before payments were recorded'"
    )
