"""Hash the digest manage/unsubscribe tokens in place; add the key that signs new links.

Each subscriber's `token` becomes the SHA-256 hex of the old token, so the links in mail
already sent keep working (`db.digest_subscribers.get_subscriber` hashes what it is given) and
the table holds no usable token. New mails carry `<id>.<HMAC>` links signed with the site key
`digest-links`, made here. Downgrading keeps the hashes (the old tokens cannot come back).

Revision ID: m008
Revises: m007
"""

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from alembic import op

revision = "m008"
down_revision = "m007"
branch_labels = None
depends_on = None

_subscribers = sa.table(
    "subscribers",
    sa.column("subscriber_id", sa.Integer),
    sa.column("token", sa.String(64)),
)
_site_keys = sa.table(
    "site_keys",
    sa.column("name", sa.String),
    sa.column("secret", sa.LargeBinary),
    sa.column("created_at", sa.DateTime),
)
KEY_NAME = "digest-links"


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(_subscribers.c.subscriber_id, _subscribers.c.token)).all()
    for subscriber_id, token in rows:
        hashed = hashlib.sha256(token.encode()).hexdigest()
        conn.execute(
            sa.update(_subscribers)
            .where(_subscribers.c.subscriber_id == subscriber_id)
            .values(token=hashed)
        )
    found = conn.execute(sa.select(_site_keys.c.name).where(_site_keys.c.name == KEY_NAME)).first()
    if found is None:
        conn.execute(
            sa.insert(_site_keys).values(
                name=KEY_NAME,
                secret=secrets.token_bytes(32),
                created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            )
        )


def downgrade() -> None:
    op.get_bind().execute(sa.delete(_site_keys).where(_site_keys.c.name == KEY_NAME))
