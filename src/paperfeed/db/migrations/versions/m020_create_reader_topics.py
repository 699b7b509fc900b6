"""Create reader_topics: a reader's chosen categories and saved searches (For you's topics).

Revision ID: m020
Revises: m019
"""

import sqlalchemy as sa
from alembic import op

revision = "m020"
down_revision = "m019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reader_topics",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, comment="category or search"),
        sa.Column(
            "value",
            sa.String(200),
            nullable=False,
            comment="an arXiv category, or a search query (spaces collapsed)",
        ),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "kind", "value", name="pk_reader_topics"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.user_id"],
            name="fk_reader_topics_user_id_users",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("reader_topics")
