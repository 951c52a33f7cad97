"""Italy, Spain, Denmark and Sweden are written to in their own languages now that there are
catalogs for them: a country still on the old English default gets its language. A country
whose language an admin chose stays as it is.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 16:50:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

LANGUAGES = {"IT": "it", "ES": "es", "DK": "da", "SE": "sv"}


def upgrade():
    for code, language in LANGUAGES.items():
        op.execute(
            f"UPDATE country SET language = '{language}' WHERE code = '{code}' AND language = 'en'"
        )


def downgrade():
    for code, language in LANGUAGES.items():
        op.execute(
            f"UPDATE country SET language = 'en' WHERE code = '{code}' AND language = '{language}'"
        )
