"""Staff accounts beside `accounts` (whose roles and school the tokens carry): the province a
province administrator acts for, disabling, the last log-in, and the second factor."""

from __future__ import annotations

from sqlalchemy import CHAR, BigInteger, Column, DateTime, ForeignKey, Integer, Table, Text, text

from passport.db.tables import metadata

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
    # The TOTP seed must be readable to check codes; it never leaves passport's database.
    Column("totp_secret", Text),
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
