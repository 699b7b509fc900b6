"""Create paper_keyphrases: each paper's keyphrases, computed from its text by the embedder.

Revision ID: m014
Revises: m013
"""

import sqlalchemy as sa
from alembic import op

revision = "m014"
down_revision = "m013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_keyphrases",
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, comment="the keyphrase method's version"),
        sa.Column(
            "text_hash", sa.String(32), nullable=False, comment="hash of the text they came from"
        ),
        sa.Column("phrases", sa.JSON, nullable=False, comment="[[phrase, score], ...], best first"),
        sa.Column("computed_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("paper_id", name="pk_paper_keyphrases"),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.paper_id"],
            name="fk_paper_keyphrases_paper_id_papers",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("paper_keyphrases")
