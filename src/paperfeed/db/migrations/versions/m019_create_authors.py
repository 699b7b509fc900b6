"""Create the author tables: each name on each paper with its bucket (filled lazily), members'
follows of authors, and claims of author pages.

Revision ID: m019
Revises: m018
"""

import sqlalchemy as sa
from alembic import op

revision = "m019"
down_revision = "m018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "author_papers",
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer, nullable=False, comment="0 for the first author"),
        sa.Column("bucket", sa.String(128), nullable=False, comment="family name + initial"),
        sa.Column("name_key", sa.String(128), nullable=False, comment="family name + given name"),
        sa.Column(
            "name", sa.String(300), nullable=False, comment="the name as the paper writes it"
        ),
        sa.PrimaryKeyConstraint("paper_id", "position", name="pk_author_papers"),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.paper_id"],
            name="fk_author_papers_paper_id_papers",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_author_papers_bucket", "author_papers", ["bucket"])
    op.create_table(
        "author_follows",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("author_key", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "author_key", name="pk_author_follows"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.user_id"],
            name="fk_author_follows_user_id_users",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_author_follows_author_key", "author_follows", ["author_key"])
    op.create_table(
        "author_claims",
        sa.Column("claim_id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("author_key", sa.String(128), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, comment="pending, approved or refused"),
        sa.Column("note", sa.Text, nullable=True, comment="what the member says to the curator"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("decided_at", sa.DateTime, nullable=True),
        sa.Column("decided_by", sa.Integer, nullable=True, comment="the curator"),
        sa.PrimaryKeyConstraint("claim_id", name="pk_author_claims"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.user_id"],
            name="fk_author_claims_user_id_users",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.user_id"],
            name="fk_author_claims_decided_by_users",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_author_claims_author_key", "author_claims", ["author_key"])
    op.create_index("ix_author_claims_user_id", "author_claims", ["user_id"])


def downgrade() -> None:
    op.drop_table("author_claims")
    op.drop_table("author_follows")
    op.drop_table("author_papers")
