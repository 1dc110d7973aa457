"""Money is integer fen inside the service; gateways speak yuan as decimal strings ("0.02").

Conversions go through Decimal and refuse anything that is not an exact amount of fen, so a
float never touches an amount and "0.015" can never be rounded into a payment.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_YUAN = re.compile(r"^[0-9]{1,10}(\.[0-9]{1,2})?$")  # ASCII only: "０.０１" is no amount


class InvalidAmount(ValueError):
    pass


def fen_to_yuan(fen: int) -> str:
    """2 → "0.02"; 2500 → "25.00" (always two decimals, as both gateways print amounts)."""
    if isinstance(fen, bool) or not isinstance(fen, int) or fen < 0:
        raise InvalidAmount(f"not an amount in fen: {fen!r}")
    return str((Decimal(fen) / 100).quantize(Decimal("0.01")))


def yuan_to_fen(yuan: str) -> int:
    """ "0.02" → 2. Refuses signs, exponents, more than two decimals, and anything not a plain number."""
    text = (yuan or "").strip()
    if not _YUAN.match(text):
        raise InvalidAmount(f"not a yuan amount: {yuan!r}")
    try:
        value = Decimal(text) * 100
    except InvalidOperation as exc:  # pragma: no cover - the pattern already guarantees a number
        raise InvalidAmount(str(exc)) from None
    if value != value.to_integral_value():
        raise InvalidAmount(f"not a whole number of fen: {yuan!r}")
    return int(value)
