"""What the unit tests share besides fixtures: constants and a token reader."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from cet_shared.clock import ManualClock
from cet_shared.tokens import TokenSigner

START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
GOOD_PASSWORD = "Cet2017-pass"
CHEAP = {"memory_cost": 1024, "time_cost": 1, "parallelism": 1}  # argon2id at unit-test cost


def claims(signer: TokenSigner, token: str, clock: ManualClock) -> dict[str, Any]:
    """The token's claims, checked against the signer's public key at the manual clock's time."""
    key = jwt.PyJWK(signer.jwks()["keys"][0])
    leeway = abs((clock.now() - datetime.now(UTC)).total_seconds()) + timedelta(minutes=1).total_seconds()
    return jwt.decode(token, key, algorithms=["EdDSA"], audience="cet-suite", issuer="cet-passport", leeway=leeway)
