"""staff TOTP seeds encrypted at rest: `totp_secret` becomes `totp_seed_sealed` and every stored seed is sealed

AES-GCM with the first key of PASSPORT_TOTP_SEED_KEYS (passport.domain.seed_seal; in development and
test, the key derived from CAPTCHA_SECRET, as the service itself uses). The migration reads the
key from its environment, as the service does; downgrade opens the seeds again.

Revision ID: ts01
Revises: st01
Create Date: 2026-12-02
"""

import os

import sqlalchemy as sa
from alembic import op

from cet_shared.settings import RELAXED_ENVIRONMENTS
from passport.domain.seed_seal import SeedSeal, seed_seal

revision = "ts01"
down_revision = "st01"
branch_labels = None
depends_on = None


def _seal_from_environment() -> SeedSeal:
    relaxed = os.environ.get("CET_ENV", "development") in RELAXED_ENVIRONMENTS
    return seed_seal(os.environ.get("PASSPORT_TOTP_SEED_KEYS", ""), relaxed=relaxed, captcha_secret=os.environ.get("CAPTCHA_SECRET", ""))


def _rewrite(change) -> None:
    """Every stored seed through `change(value, passport_id)`, in the migration's transaction."""
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT passport_id, totp_seed_sealed FROM staff_accounts WHERE totp_seed_sealed IS NOT NULL FOR UPDATE")).all()
    for passport_id, value in rows:
        connection.execute(
            sa.text("UPDATE staff_accounts SET totp_seed_sealed = :value WHERE passport_id = :id"), {"value": change(value, passport_id), "id": passport_id}
        )


def upgrade() -> None:
    op.alter_column("staff_accounts", "totp_secret", new_column_name="totp_seed_sealed")
    seal = _seal_from_environment()
    _rewrite(lambda seed, passport_id: seal.seal(seed, passport_id=passport_id))


def downgrade() -> None:
    seal = _seal_from_environment()
    _rewrite(lambda sealed, passport_id: seal.open(sealed, passport_id=passport_id))
    op.alter_column("staff_accounts", "totp_seed_sealed", new_column_name="totp_secret")
