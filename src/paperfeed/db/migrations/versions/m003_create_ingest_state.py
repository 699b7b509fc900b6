"""Create ingest_state: high-water marks and resumption tokens of the network sources.

Revision ID: m003
Revises: m002
"""

import sqlalchemy as sa
from alembic import op

revision = "m003"
down_revision = "m002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_state",
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("key", sa.String(255), nullable=False, comment="e.g. the query or set it tracks"),
        sa.Column("value", sa.JSON, nullable=False, comment="high-water mark, resumption token…"),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("source", "key", name="pk_ingest_state"),
    )


def downgrade() -> None:
    op.drop_table("ingest_state")
