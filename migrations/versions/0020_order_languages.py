"""Orders from Italy, Spain, Denmark and Sweden placed before those languages existed carry
English: mostly the old default, sometimes a channel's explicit choice, which the data cannot
tell apart. The country's own language is the better guess, so their customers read it from
now on, for returns already under way too.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 18:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

LANGUAGES = {"IT": "it", "ES": "es", "DK": "da", "SE": "sv"}


def upgrade():
    for code, language in LANGUAGES.items():
        op.execute(
            f'UPDATE "order" SET language = \'{language}\' '
            f"WHERE country_code = '{code}' AND language = 'en'"
        )


def downgrade():
    for code, language in LANGUAGES.items():
        op.execute(
            f'UPDATE "order" SET language = \'en\' '
            f"WHERE country_code = '{code}' AND language = '{language}'"
        )
