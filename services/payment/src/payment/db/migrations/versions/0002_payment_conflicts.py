"""a transaction id is unique per attempt; conflicts across attempts are recorded, not dropped

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("payments_gateway_transaction_id_key", "payments", type_="unique")
    op.create_unique_constraint("payments_once_per_attempt", "payments", ["gateway", "attempt_id", "transaction_id"])
    op.create_index("payments_by_transaction", "payments", ["gateway", "transaction_id"])
    op.alter_column("reconciliation_findings", "run_id", nullable=True)
    op.create_table(
        "payment_conflicts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("gateway", sa.Text(), nullable=False),
        sa.Column("transaction_id", sa.Text(), nullable=False),
        sa.Column("out_trade_no", sa.Text(), nullable=False),
        sa.Column("order_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("existing_payment_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("existing_order_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("existing_amount_fen", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), server_default="open", nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("times_seen", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("gateway", "transaction_id", "out_trade_no", name="payment_conflicts_once"),
    )


def downgrade() -> None:
    op.drop_table("payment_conflicts")
    op.alter_column("reconciliation_findings", "run_id", nullable=False)
    op.drop_index("payments_by_transaction", table_name="payments")
    op.drop_constraint("payments_once_per_attempt", "payments", type_="unique")
    op.create_unique_constraint("payments_gateway_transaction_id_key", "payments", ["gateway", "transaction_id"])
