"""Tables every service has in its own database: outbox, inbox, used captcha nonces, rate limits,
dead letters, revoked tokens.

The code's view of them. The database gets them from the frozen common migration history
(`cet_shared/db/common_migrations`, branch `common`) that every service's history depends on; each
service's `env.py` targets `COMMON_METADATA` besides its own, so autogenerate sees them as known.
A change here needs a new revision on that branch (tests/architecture/test_migration_histories.py fails
until the two agree).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from cet_shared.audit import audit_log

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


# Events a consumer could not apply (state 'dead') and the later events of the same key held
# behind them ('parked') until the dead one is replayed or discarded (`cet_shared.dead_letters`).
dead_letter_metadata = MetaData()

dead_letters = Table(
    "dead_letters",
    dead_letter_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("consumer", Text, nullable=False),
    Column("state", Text, nullable=False),  # dead | parked | replayed | discarded
    Column("key", Text),
    Column("event_id", UUID(as_uuid=True)),
    Column("event_type", Text),
    Column("topic", Text, nullable=False),
    Column("partition", Integer),
    Column("offset", BigInteger),
    Column("body", LargeBinary, nullable=False),
    Column("headers", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", Text),
    Column("resolution", Text),
    UniqueConstraint("consumer", "topic", "partition", "offset", name="dead_letters_once_per_record"),
)
Index("dead_letters_held", dead_letters.c.consumer, dead_letters.c.key, dead_letters.c.id, postgresql_where=dead_letters.c.state.in_(["dead", "parked"]))


# Access tokens revoked before they expire (cet_shared.revocations).
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

# What every service's env.py targets besides its own metadata.
COMMON_METADATA: tuple[MetaData, ...] = (common_metadata, dead_letter_metadata, revocation_metadata, audit_log.metadata)
