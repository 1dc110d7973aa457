from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SandboxSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="SANDBOX_", validate_by_name=True)

    key_dir: str = ".local/var/payment-keys"
    public_base_url: str = "http://127.0.0.1:8090"
    alipay_app_id: str = "2021000000000001"
    alipay_seller_id: str = "2088000000000001"
    payease_merchant_id: str = "8888"
    # PayEase sends its server-to-server result to an address set up with the merchant account.
    payease_notify_url: str = "http://127.0.0.1:8080/api/payment/notify/payease"
    payease_charset: str = "gbk"
    # Retry delays are multiplied by this: 1.0 is the real schedule, 0.001 makes hours seconds.
    time_scale: float = Field(default=1.0, gt=0)
    # Share of acknowledged notifications sent once more anyway, as real gateways occasionally do.
    duplicate_rate: float = Field(default=0.1, ge=0, le=1)
    seed: int | None = None
