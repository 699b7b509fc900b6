"""Create users and feed_entries (which paper is featured on which day, by whom).

Revision ID: m002
Revises: m001
"""

import sqlalchemy as sa
from alembic import op

revision = "m002"
down_revision = "m001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=True),
        sa.Column("role", sa.String(16), nullable=False, server_default="member"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "feed_entries",
        sa.Column("entry_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column(
            "source",
            sa.String(32),
            nullable=False,
            comment="sample, snapshot, hf-daily, curator…",
        ),
        sa.Column(
            "featured_by",
            sa.Integer,
            nullable=True,
            comment="the curator or member who featured it; None for imports",
        ),
        sa.Column(
            "upvotes", sa.Integer, nullable=False, server_default="0", comment="imported count"
        ),
        sa.Column("featured_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_feed_entries"),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.paper_id"],
            name="fk_feed_entries_paper_id_papers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["featured_by"],
            ["users.user_id"],
            name="fk_feed_entries_featured_by_users",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("day", "paper_id", name="uq_feed_entries_day_paper_id"),
    )
    op.create_index("ix_feed_entries_day", "feed_entries", ["day"])
    op.create_index("ix_feed_entries_paper_id", "feed_entries", ["paper_id"])


def downgrade() -> None:
    op.drop_table("feed_entries")
    op.drop_table("users")
