"""Alembic environment: runs on the connection paperfeed hands over (see db/migrate.py)."""

from alembic import context

from paperfeed.db.queue_schema import is_paperfeeds
from paperfeed.db.schema import metadata

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things in place; batch mode copies the table instead.
    render_as_batch=True,
    compare_type=True,
    include_name=is_paperfeeds,  # Procrastinate's tables are its own (m010)
)
with context.begin_transaction():
    context.run_migrations()
