from __future__ import annotations

from sqlalchemy import CHAR, BigInteger, Column, DateTime, ForeignKey, Index, Integer, MetaData, Table, Text, func, text
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
Index("mail_queue_unsent", mail_queue.c.id, postgresql_where=mail_queue.c.sent_at.is_(None))  # the sender's queue

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

# Staff accounts beside `accounts` (whose roles and school the tokens carry): the province a
# province administrator acts for, disabling, the last log-in, and the second factor (issue 15).
staff_accounts = Table(
    "staff_accounts",
    metadata,
    Column("passport_id", CHAR(32), ForeignKey("accounts.passport_id"), primary_key=True),
    Column("province_code", CHAR(2)),  # province administrators (teachers: their school's province)
    Column("created_by", CHAR(32)),  # NULL: made by the passport-admin command
    Column("disabled_at", DateTime(timezone=True)),
    Column("disabled_by", CHAR(32)),
    Column("last_login_at", DateTime(timezone=True)),
    Column("last_login_address", Text),
    # The TOTP seed must be readable to check codes: stored sealed (AES-GCM, passport.domain.seed_seal).
    Column("totp_seed_sealed", Text),
    Column("totp_confirmed_at", DateTime(timezone=True)),
    Column("totp_last_step", BigInteger),  # a code works once (RFC 6238 §5.2)
)

staff_recovery_codes = Table(
    "staff_recovery_codes",
    metadata,
    Column("passport_id", CHAR(32), ForeignKey("accounts.passport_id"), primary_key=True),
    Column("code_hash", CHAR(64), primary_key=True),
    Column("used_at", DateTime(timezone=True)),
)

# Between the password and the second factor: a single-use, short-lived ticket (its hash stored),
# with a bound on wrong codes so six digits cannot be guessed through one ticket.
staff_login_challenges = Table(
    "staff_login_challenges",
    metadata,
    Column("token_hash", CHAR(64), primary_key=True),
    Column("passport_id", CHAR(32), nullable=False, index=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("failures", Integer, nullable=False, server_default=text("0")),
)
