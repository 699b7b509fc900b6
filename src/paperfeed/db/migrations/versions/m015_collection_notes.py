"""Create collection_notes: the owner's note and read state per collection item.

Revision ID: m015
Revises: m014
"""

import sqlalchemy as sa
from alembic import op

revision = "m015"
down_revision = "m014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collection_notes",
        sa.Column("collection_id", sa.Integer, nullable=False),
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column(
            "note", sa.Text, nullable=False, server_default="", comment="plain text, the owner's"
        ),
        sa.Column(
            "read_at",
            sa.DateTime,
            nullable=True,
            comment="when the owner marked it read; or unread",
        ),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("collection_id", "paper_id", name="pk_collection_notes"),
        sa.ForeignKeyConstraint(
            ["collection_id", "paper_id"],
            ["collection_items.collection_id", "collection_items.paper_id"],
            name="fk_collection_notes_collection_items",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("collection_notes")
