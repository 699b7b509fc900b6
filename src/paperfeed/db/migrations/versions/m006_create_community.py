"""Create the community tables (sessions, sign-in_links, comments, collections, api_tokens, dev_mailbox).

Revision ID: m006
Revises: m005
"""

revision = "m006"
down_revision = "m005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
