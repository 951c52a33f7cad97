"""An invoice's date is the marketplace's calendar day of issue, stored with it: printed from the
UTC time, an invoice issued just after midnight on the 1st was dated the last day of the month it
bills. Invoices issued before get the day of their issue time in the first site's zone, the zone
`warehouse.invoices.invoicing_day` judges by.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 01:00:00.000000

"""
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa
from warehouse.db import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

invoice = sa.table(
    'invoice',
    sa.column('id', sa.Integer()),
    sa.column('issued_at', UTCDateTime()),
    sa.column('issued_on', sa.Date()),
)
site = sa.table('site', sa.column('id', sa.Integer()), sa.column('timezone', sa.String()))


def upgrade():
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issued_on', sa.Date(), nullable=True))

    connection = op.get_bind()
    timezone = connection.scalar(sa.select(site.c.timezone).order_by(site.c.id).limit(1))
    zone = ZoneInfo(timezone or 'UTC')
    for row in connection.execute(sa.select(invoice.c.id, invoice.c.issued_at)).all():
        connection.execute(
            invoice.update()
            .where(invoice.c.id == row.id)
            .values(issued_on=row.issued_at.astimezone(zone).date())
        )

    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.alter_column('issued_on', existing_type=sa.Date(), nullable=False)


def downgrade():
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_column('issued_on')
