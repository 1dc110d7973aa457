"""Payment's own tables. Projections (registrations, enrolments) are fed by events only."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = MetaData()

# -- projections -------------------------------------------------------------------------------

registrations = Table(
    "registrations",
    metadata,
    Column("registration_id", UUID(as_uuid=True), primary_key=True),
    Column("passport_id", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="bound"),  # bound | released
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

enrolments = Table(
    "enrolments",
    metadata,
    Column("enrolment_id", UUID(as_uuid=True), primary_key=True),
    Column("registration_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("passport_id", Text, nullable=False),
    Column("subject_code", Text, nullable=False),
    Column("subject_name", Text, nullable=False),
    Column("fee_fen", Integer, nullable=False),
    Column("status", Text, nullable=False, server_default="unpaid"),  # unpaid | paid | cancelled | expired
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# -- orders and payments -----------------------------------------------------------------------

orders = Table(
    "orders",
    metadata,
    Column("order_id", UUID(as_uuid=True), primary_key=True),
    Column("registration_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("passport_id", Text, nullable=False),
    Column("amount_fen", Integer, nullable=False),
    Column("status", Text, nullable=False, server_default="open"),  # open | paid | closed
    Column("closed_reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("paid_at", DateTime(timezone=True)),
)

order_items = Table(
    "order_items",
    metadata,
    Column("order_id", UUID(as_uuid=True), ForeignKey("orders.order_id"), nullable=False),
    Column("enrolment_id", UUID(as_uuid=True), nullable=False),
    Column("fee_fen", Integer, nullable=False),
    Column("open", Boolean, nullable=False, server_default=text("true")),
    PrimaryKeyConstraint("order_id", "enrolment_id"),
)
# Y1: an enrolment is in at most one open order — the database refuses a second one.
Index("order_items_one_open_order", order_items.c.enrolment_id, unique=True, postgresql_where=order_items.c.open)

attempts = Table(
    "attempts",
    metadata,
    Column("attempt_id", UUID(as_uuid=True), primary_key=True),
    Column("order_id", UUID(as_uuid=True), ForeignKey("orders.order_id"), nullable=False, index=True),
    Column("gateway", Text, nullable=False),
    Column("out_trade_no", Text, nullable=False, unique=True),
    Column("bank", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("order_id", "gateway"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("gateway", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("body", LargeBinary, nullable=False),  # exactly as received (PayEase sends GBK)
    Column("content_type", Text),
    Column("verified", Boolean, nullable=False),
    Column("outcome", Text, nullable=False),  # applied | duplicate | rejected | amount_mismatch | unknown_order | …
    Column("detail", Text),
    Column("out_trade_no", Text, index=True),
    Column("transaction_id", Text),
)

payments = Table(
    "payments",
    metadata,
    Column("payment_id", UUID(as_uuid=True), primary_key=True),
    Column("order_id", UUID(as_uuid=True), ForeignKey("orders.order_id"), nullable=False, index=True),
    Column("attempt_id", UUID(as_uuid=True), ForeignKey("attempts.attempt_id"), nullable=False),
    Column("gateway", Text, nullable=False),
    Column("transaction_id", Text, nullable=False),
    Column("amount_fen", Integer, nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=False),
    Column("source", Text, nullable=False),  # notification | query | reconciliation
    Column("status", Text, nullable=False),  # applied | surplus (a second payment of a paid order: refunded)
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Y3: a gateway transaction is applied once per attempt, whatever path reports it. The same
    # transaction id on another attempt is a conflict (payment_conflicts), never a duplicate.
    UniqueConstraint("gateway", "attempt_id", "transaction_id", name="payments_once_per_attempt"),
)
Index("payments_by_transaction", payments.c.gateway, payments.c.transaction_id)

# A verified report (notification, query, statement) whose transaction id is already recorded for
# another attempt or amount: kept, alerted, and settled by the gateway's own query or by support.
payment_conflicts = Table(
    "payment_conflicts",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("gateway", Text, nullable=False),
    Column("transaction_id", Text, nullable=False),
    Column("out_trade_no", Text, nullable=False),
    Column("order_id", UUID(as_uuid=True), nullable=False),
    Column("amount_fen", Integer, nullable=False),
    Column("source", Text, nullable=False),  # notification | query | reconciliation
    Column("existing_payment_id", UUID(as_uuid=True), nullable=False),
    Column("existing_order_id", UUID(as_uuid=True), nullable=False),
    Column("existing_amount_fen", Integer, nullable=False),
    Column("status", Text, nullable=False, server_default="open"),  # open | settled | support
    Column("resolution", Text),
    Column("times_seen", Integer, nullable=False, server_default=text("1")),
    Column("detected_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    UniqueConstraint("gateway", "transaction_id", "out_trade_no", name="payment_conflicts_once"),
)

refunds = Table(
    "refunds",
    metadata,
    Column("refund_id", UUID(as_uuid=True), primary_key=True),
    Column("payment_id", UUID(as_uuid=True), ForeignKey("payments.payment_id"), nullable=False),
    Column("order_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("registration_id", UUID(as_uuid=True), nullable=False),
    Column("enrolment_ids", ARRAY(UUID(as_uuid=True)), nullable=False),
    Column("enrolment_key", Text, nullable=False),
    Column("amount_fen", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("request_no", Text, nullable=False, unique=True),  # the gateway's idempotency key
    Column("status", Text, nullable=False, server_default="pending"),  # pending | completed | failed
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text),
    Column("fund_change", Boolean),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True)),
    # Y4: the same enrolments of the same payment are refunded once, however often it is asked.
    UniqueConstraint("payment_id", "enrolment_key"),
)
Index("refunds_pending", refunds.c.created_at, postgresql_where=refunds.c.status == "pending")

reconciliation_runs = Table(
    "reconciliation_runs",
    metadata,
    Column("run_id", UUID(as_uuid=True), primary_key=True),
    Column("gateway", Text, nullable=False),
    Column("bill_date", Date, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", Text, nullable=False),  # running | completed | failed
    Column("summary", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
)

reconciliation_findings = Table(
    "reconciliation_findings",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    # NULL for a finding raised outside a statement run (a transaction conflict, when detected).
    Column("run_id", UUID(as_uuid=True), ForeignKey("reconciliation_runs.run_id"), nullable=True, index=True),
    # transaction_conflict | settled (paid there, not here) | missing_there (here, not there) | amount_mismatch | unknown_order
    Column("kind", Text, nullable=False),
    Column("out_trade_no", Text),
    Column("transaction_id", Text),
    Column("gateway_amount_fen", Integer),
    Column("our_amount_fen", Integer),
    Column("detail", Text),
)
