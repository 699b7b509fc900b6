"""Create Procrastinate's schema: the job queue of the PostgreSQL engine (no-op on SQLite).

The SQL is the installed Procrastinate's own `schema.sql`; pyproject pins Procrastinate to
3.10.x, whose schema this is. Procrastinate changes its schema in minor releases and ships the
change as SQL files (procrastinate/sql/migrations/): moving the pin means a new migration that
applies those files.

Revision ID: m010
Revises: m009
"""

from alembic import op

from paperfeed.db.queue_schema import drop_sql, schema_sql

revision = "m010"
down_revision = "m009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return  # SQLite runs the in-process worker: no queue
    # Straight to the driver: the SQL holds `::casts` that SQLAlchemy would take for bound
    # parameters; psycopg still reads `%` as a placeholder, so it is doubled (as Procrastinate's
    # own SchemaManager.apply_schema does).
    bind.exec_driver_sql(schema_sql().replace("%", "%%"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for statement in drop_sql(schema_sql()):
        bind.exec_driver_sql(statement)
