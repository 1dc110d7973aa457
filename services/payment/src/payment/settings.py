from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field

from cet_shared.settings import ServiceSettings


class PaymentSettings(ServiceSettings):
    """The gateways are told apart from the sandbox only here: base URLs, ids and key files."""

    service_name: str = "payment"
    database_url: str = Field(validation_alias="DATABASE_URL_PAYMENT")
    # Where gateways send asynchronous notifications (through the gateway to /notify/<gateway>).
    notify_base_url: str = Field(default="http://127.0.0.1:8080/api/payment", validation_alias="PAYMENT_NOTIFY_BASE_URL")
    # Where the browser returns after paying: the portal's registration info page.
    return_url: str = Field(default="http://127.0.0.1:8080/registration", validation_alias="PAYMENT_RETURN_URL")

    alipay_gateway_url: str = Field(default="http://127.0.0.1:8090/alipay/gateway.do", validation_alias="ALIPAY_GATEWAY_URL")
    alipay_app_id: str = Field(default="2021000000000001", validation_alias="ALIPAY_APP_ID")
    alipay_seller_id: str = Field(default="2088000000000001", validation_alias="ALIPAY_SELLER_ID")
    alipay_app_private_key_file: str = Field(default=".local/var/payment-keys/app_private_key.pem", validation_alias="ALIPAY_APP_PRIVATE_KEY_FILE")
    alipay_public_key_file: str = Field(default=".local/var/payment-keys/alipay_public_key.pem", validation_alias="ALIPAY_PUBLIC_KEY_FILE")

    payease_pay_url: str = Field(default="http://127.0.0.1:8090/payease/prs/user_payment.checkit", validation_alias="PAYEASE_PAY_URL")
    payease_api_base_url: str = Field(default="http://127.0.0.1:8090/payease", validation_alias="PAYEASE_API_BASE_URL")
    payease_merchant_id: str = Field(default="8888", validation_alias="PAYEASE_MERCHANT_ID")
    payease_key_file: str = Field(default=".local/var/payment-keys/payease_key", validation_alias="PAYEASE_KEY_FILE")
    # PayEase's RSA public key (verifies a notification's v_sign); by default beside the MAC key.
    payease_public_key_file: str | None = Field(default=None, validation_alias="PAYEASE_PUBLIC_KEY_FILE")
    payease_charset: str = "gbk"

    # Issue 14.3: a candidate may press 支付 milliseconds after enrolment answered 201, before its
    # SubjectEnrolled reached this projection (p99 under 1 s). Unknown subjects of a candidate with a
    # projected registration are waited for this long, then answered "still syncing", never "不存在".
    projection_wait: timedelta = timedelta(seconds=3)
    projection_poll: timedelta = timedelta(milliseconds=20)

    # 更新 asks the gateways each time: bounded per registration so it cannot be used to flood them.
    refreshes_per_registration: int = 10
    refresh_window: timedelta = timedelta(minutes=1)
    gateway_timeout: timedelta = timedelta(seconds=10)
    refund_interval: timedelta = timedelta(seconds=2)
    refund_max_attempts: int = 20
    # The daily reconciliation: the worker checks this often whether yesterday still needs a run.
    reconcile_check_interval: timedelta = timedelta(hours=1)
    # Gateways publish a day's statement the next morning (Alipay: from about 09:00 Beijing time).
    reconcile_from_hour: int = Field(default=10, ge=0, le=23)
    # Forged notifications (issue 13): per sending address and window, at most this many rejected
    # ones are stored, each cut to its first bytes; beyond that 429 and nothing stored.
    notify_rejected_per_source: int = 100
    notify_rejected_window: timedelta = timedelta(minutes=1)
    notify_rejected_body_bytes: int = 2048
    # ... and deleted by the worker after this long (verified notifications are kept: they are the money's trail).
    notify_rejected_retention: timedelta = timedelta(days=7)

    def payease_public_key_path(self) -> Path:
        return Path(self.payease_public_key_file) if self.payease_public_key_file else Path(self.payease_key_file).parent / "payease_public_key.pem"

    def secret_field_names(self) -> tuple[str, ...]:
        # Payment holds no shared-secret setting: its keys are files (checked when loaded).
        return ()
