"""Create the "For you" tables: readers' card signals and private feed tokens.

Revision ID: m012
Revises: m011
"""

import sqlalchemy as sa
from alembic import op

revision = "m012"
down_revision = "m011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reader_signals",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column(
            "kind",
            sa.String(8),
            nullable=False,
            comment="more (like this) or less (not interested)",
        ),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "paper_id", name="pk_reader_signals"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.user_id"],
            name="fk_reader_signals_user_id_users",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.paper_id"],
            name="fk_reader_signals_paper_id_papers",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "reader_feed_tokens",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, comment="SHA-256 of the token"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_used_at", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_reader_feed_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_reader_feed_tokens_token_hash"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.user_id"],
            name="fk_reader_feed_tokens_user_id_users",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("reader_feed_tokens")
    op.drop_table("reader_signals")
