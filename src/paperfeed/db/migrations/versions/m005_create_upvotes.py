"""Create upvotes: one row per reader and paper, with the time it was cast.

Revision ID: m005
Revises: m004
"""

import sqlalchemy as sa
from alembic import op

revision = "m005"
down_revision = "m004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upvotes",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False, comment="when it was cast, UTC"),
        sa.PrimaryKeyConstraint("user_id", "paper_id", name="pk_upvotes"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name="fk_upvotes_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["papers.paper_id"], name="fk_upvotes_paper_id_papers", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_upvotes_paper_id", "upvotes", ["paper_id"])
    op.create_index("ix_upvotes_created_at", "upvotes", ["created_at"])


def downgrade() -> None:
    op.drop_table("upvotes")
