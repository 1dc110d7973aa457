"""The sandbox's notification bodies, signed as each gateway signs them (Alipay RSA2; PayEase
v_mac/v_md5money HMAC-MD5 and the v_sign RSA), for SandboxState to deliver and tests to forge from."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric import rsa

from cet_shared.clock import Clock
from payment.domain.orders import PAYEASE_BANKS
from payment.gateways.alipay import beijing_time
from payment.gateways.signing import alipay_sign_content, hmac_md5, payease_rsa_sign, payease_sign_content, rsa2_sign
from payment.sandbox.settings import SandboxSettings

if TYPE_CHECKING:
    from payment.sandbox.state import Trade


class SignedNotifications:
    """Mixed into SandboxState: the keys, settings and clock are its own."""

    settings: SandboxSettings
    clock: Clock
    alipay_key: rsa.RSAPrivateKey
    payease_rsa_key: rsa.RSAPrivateKey
    payease_key: str

    def alipay_notification(self, trade: Trade, overrides: dict[str, str] | None = None) -> dict[str, str]:
        overrides = overrides or {}
        amount = overrides.get("amount", trade.amount)
        params = {
            "notify_time": beijing_time(self.clock.now()),
            "notify_type": "trade_status_sync",
            "notify_id": uuid.uuid4().hex,
            "charset": "utf-8",
            "version": "1.0",
            "sign_type": "RSA2",
            "app_id": self.settings.alipay_app_id,
            "auth_app_id": self.settings.alipay_app_id,
            "trade_no": overrides.get("trade_no", trade.trade_no),
            "out_trade_no": trade.out_trade_no,
            "buyer_id": "2088102177846880",
            "buyer_logon_id": "cet***@sandbox.test",
            "seller_id": self.settings.alipay_seller_id,
            "trade_status": overrides.get("status", trade.status),
            "total_amount": amount,
            "receipt_amount": amount,
            "buyer_pay_amount": amount,
            "invoice_amount": amount,
            "point_amount": "0.00",
            "subject": trade.subject,
            "gmt_create": beijing_time(trade.created_at),
            "gmt_payment": beijing_time(trade.paid_at or self.clock.now()),
        }
        params["sign"] = rsa2_sign(self.alipay_key, alipay_sign_content(params))
        return params

    def payease_notification(self, trade: Trade, overrides: dict[str, str] | None = None) -> dict[str, str]:
        overrides = overrides or {}
        charset = self.settings.payease_charset
        status = overrides.get("status", "1")
        fields = {
            "v_oid": trade.out_trade_no,
            "v_pmode": PAYEASE_BANKS.get(trade.bank or "", "首信易支付"),
            "v_pstatus": status,
            "v_pstring": "支付完成" if status == "1" else "支付失败",
            "v_count": "1",
            "v_amount": overrides.get("amount", trade.amount),
            "v_moneytype": "0",
        }
        fields["v_mac"] = hmac_md5(
            self.payease_key, fields["v_oid"] + fields["v_pmode"] + fields["v_pstatus"] + fields["v_pstring"] + fields["v_count"], charset
        )
        fields["v_md5money"] = hmac_md5(self.payease_key, fields["v_amount"] + fields["v_moneytype"], charset)
        fields["v_sign"] = payease_rsa_sign(self.payease_rsa_key, payease_sign_content(fields), charset)
        return fields

    def notification_body(self, trade: Trade, overrides: dict[str, str] | None = None) -> tuple[bytes, str]:
        if trade.gateway == "alipay":
            return urlencode(self.alipay_notification(trade, overrides)).encode(), "success"
        charset = self.settings.payease_charset
        return urlencode(self.payease_notification(trade, overrides), encoding=charset).encode("ascii"), "sent"
