"""Wording of the payment receipt (Y6)."""

from __future__ import annotations

GATEWAY_NAMES = {"alipay": "支付宝", "payease": "首信易支付"}


def yuan(fen: int) -> str:
    """Fen to the yuan string candidates read: 2 → 0.02."""
    return f"{fen // 100}.{fen % 100:02d}"
