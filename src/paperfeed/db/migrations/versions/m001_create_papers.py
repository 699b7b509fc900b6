"""Create papers.

Revision ID: m001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "m001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "papers",
        sa.Column("paper_id", sa.String(64), nullable=False, comment="arXiv id without version"),
        sa.Column(
            "version", sa.Integer, nullable=True, comment="latest version seen (None: unknown)"
        ),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("abstract", sa.Text, nullable=False),
        sa.Column("authors", sa.JSON, nullable=True, comment="ordered list of author names"),
        sa.Column("categories", sa.JSON, nullable=True, comment="ordered list, primary first"),
        sa.Column("primary_category", sa.String(32), nullable=True),
        sa.Column("submitted", sa.DateTime, nullable=True, comment="v1 submission time, UTC"),
        sa.Column("updated", sa.DateTime, nullable=True, comment="latest version time, UTC"),
        sa.Column("announced", sa.Date, nullable=True, comment="first announcement day"),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("journal_ref", sa.Text, nullable=True),
        sa.Column("doi", sa.String(255), nullable=True),
        sa.Column("license", sa.String(255), nullable=True),
        sa.Column(
            "keywords", sa.JSON, nullable=True, comment="subject keywords given by the source"
        ),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        sa.Column("content_hash", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("modified_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("paper_id", name="pk_papers"),
    )
    op.create_index("ix_papers_primary_category", "papers", ["primary_category"])
    op.create_index("ix_papers_announced", "papers", ["announced"])
    op.create_index("ix_papers_status_announced", "papers", ["status", "announced"])


def downgrade() -> None:
    op.drop_table("papers")
