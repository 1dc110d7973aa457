from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from cet_shared.settings import ServiceSettings


class PassportSettings(ServiceSettings):
    service_name: str = "passport"
    database_url: str = Field(validation_alias="DATABASE_URL_PASSPORT")
    jwt_private_key_file: str = Field(validation_alias="JWT_PRIVATE_KEY_FILE")
    access_token_lifetime: timedelta = timedelta(minutes=30)
    captcha_lifetime: timedelta = timedelta(minutes=5)
    reset_link_lifetime: timedelta = timedelta(hours=2)
    email_verification_lifetime: timedelta = timedelta(hours=48)
    # The mail carries two links to the same token (P4): campus network and public network.
    campus_base_url: str = Field(default="http://127.0.0.1:8080", validation_alias="PASSPORT_CAMPUS_BASE_URL")
    public_base_url: str = Field(default="http://localhost:8080", validation_alias="PASSPORT_PUBLIC_BASE_URL")
    smtp_host: str = Field(default="127.0.0.1", validation_alias="SMTP_HOST")
    smtp_port: int = Field(default=2525, validation_alias="SMTP_PORT")
    mail_from: str = Field(default="CET报名网 <noreply@cet.example>", validation_alias="MAIL_FROM")
    # P2 throttling: failed log-ins per account and per client address in a window.
    login_failures_per_account: int = 5
    login_failures_per_client: int = 20
    login_failure_window: timedelta = timedelta(minutes=15)
    # P4: password recovery requests per account (email) and, a high ceiling for a school's NAT
    # address, per client address.
    recovery_requests_per_account: int = 5
    recovery_requests_per_client: int = 300
    recovery_window: timedelta = timedelta(minutes=15)
    # Staff (issue 15): shorter sessions than candidates', a second factor, links to set a password.
    staff_access_token_lifetime: timedelta = timedelta(minutes=15)
    staff_login_challenge_lifetime: timedelta = timedelta(minutes=5)
    staff_login_challenge_failures: int = 5
    staff_password_link_lifetime: timedelta = timedelta(hours=72)
    totp_issuer: str = "CET报名管理平台"

    def secret_field_names(self) -> tuple[str, ...]:
        return ("captcha_secret",)
