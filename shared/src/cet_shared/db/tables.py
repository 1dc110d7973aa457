"""Tables every service has in its own database: outbox, inbox, used captcha nonces, rate limits.

They live in one MetaData here and each service's first migration creates them with
`create_common_tables`, so the definition exists once.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

common_metadata = MetaData()

outbox = Table(
    "outbox",
    common_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("topic", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("envelope", JSONB, nullable=False),
    Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
)
Index("outbox_unpublished", outbox.c.id, postgresql_where=outbox.c.published_at.is_(None))

inbox = Table(
    "inbox",
    common_metadata,
    Column("consumer", Text, nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("event_type", Text, nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("consumer", "event_id"),
)

captcha_nonces = Table(
    "captcha_nonces",
    common_metadata,
    Column("nonce", Text, primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

rate_limit_hits = Table(
    "rate_limit_hits",
    common_metadata,
    Column("bucket", Text, nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False),
    Column("hits", Integer, nullable=False),
    PrimaryKeyConstraint("bucket", "window_start"),
)


def create_common_tables(connection) -> None:  # noqa: ANN001 - a sync Connection inside Alembic
    common_metadata.create_all(connection)


def drop_common_tables(connection) -> None:  # noqa: ANN001
    common_metadata.drop_all(connection)


# Access tokens revoked before they expire (cet_shared.revocations). Its own MetaData, added after
# every service's first migration: each service's migration rv01 creates it.
revocation_metadata = MetaData()

token_revocations = Table(
    "token_revocations",
    revocation_metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=True),
    Column("passport_id", Text, nullable=False),
    Column("token_version_below", Integer),  # every token of the account with a lower version
    Column("token_id", Text),  # or this one token (log-out)
    Column("expires_at", DateTime(timezone=True), nullable=False),  # its tokens have expired by then
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("token_revocations_recorded", token_revocations.c.recorded_at)
Index("token_revocations_expiry", token_revocations.c.expires_at)


def create_revocation_table(connection) -> None:  # noqa: ANN001 - a sync Connection inside Alembic
    revocation_metadata.create_all(connection)


def drop_revocation_table(connection) -> None:  # noqa: ANN001
    revocation_metadata.drop_all(connection)
