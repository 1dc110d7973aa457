from __future__ import annotations

from sqlalchemy import CHAR, Column, DateTime, Integer, MetaData, Table, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("passport_id", CHAR(32), primary_key=True),
    Column("email", Text, nullable=False),
    Column("email_normalised", Text, nullable=False, unique=True),
    Column("email_verified_at", DateTime(timezone=True)),
    Column("password_hash", Text, nullable=False),
    Column("phone", Text),
    Column("id_type", Text),
    Column("id_number", Text),
    Column("name", Text),
    Column("roles", ARRAY(Text), nullable=False, server_default=text("'{candidate}'")),
    Column("school_code", Text),
    # Bumped on password reset and change: tokens issued before stop working (P4).
    Column("token_version", Integer, nullable=False, server_default=text("0")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Single-use, expiring tokens behind mailed links: password reset (P4) and email verification (P5, P6).
link_tokens = Table(
    "link_tokens",
    metadata,
    Column("token_hash", CHAR(64), primary_key=True),
    Column("passport_id", CHAR(32), nullable=False, index=True),
    Column("purpose", Text, nullable=False),
    Column("email", Text),  # the address being verified
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Mail is queued in the same transaction as the change that causes it and sent by the worker,
# so an SMTP outage delays mail instead of losing it or failing the request.
mail_queue = Table(
    "mail_queue",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("to_address", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text),
)

# Refresh tokens (passport.domain.sessions): only the hash of each is stored; one row per rotation.
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", CHAR(64), primary_key=True),
    Column("family_id", CHAR(32), nullable=False, index=True),
    Column("passport_id", CHAR(32), nullable=False, index=True),
    Column("token_version", Integer, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("access_token_id", Text, nullable=False),
    Column("access_expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)
