from __future__ import annotations

import os
from datetime import timedelta

from pydantic import Field, model_validator

from cet_shared.settings import RELAXED_ENVIRONMENTS, ServiceSettings
from passport.domain.seed_seal import SeedSeal, seed_seal

# OWASP's argon2id settings of equal strength with t >= 2: (memory KiB, passes), p=1.
OWASP_ARGON2ID = ((19_456, 2), (12_288, 3), (9_216, 4), (7_168, 5))


class PassportSettings(ServiceSettings):
    service_name: str = "passport"
    database_url: str = Field(validation_alias="DATABASE_URL_PASSPORT")
    jwt_private_key_file: str = Field(validation_alias="JWT_PRIVATE_KEY_FILE")
    # Access tokens stay short-lived (every service trusts one offline until it expires); the
    # refresh token renews them without a password hash, for at most `refresh_token_lifetime`
    # after the log-in, so a candidate waiting with the portal open is not sent to log in again.
    access_token_lifetime: timedelta = timedelta(minutes=15)
    refresh_token_lifetime: timedelta = timedelta(hours=12)
    # The refresh cookie goes only to the session paths (renewal and log-out), as the browser sees
    # them behind the gateway; a test calling the service directly sets "/sessions".
    refresh_cookie_path: str = Field(default="/api/passport/sessions", validation_alias="PASSPORT_REFRESH_COOKIE_PATH")
    # Argon2id cost per password hash (README, "Settings: log-in and sessions"). OWASP's Password
    # Storage Cheat Sheet lists five argon2id settings of equal strength; the t=2-or-more ones are
    # m=19 MiB t=2, 12 MiB t=3, 9 MiB t=4 and 7 MiB t=5 (all p=1). Measured on this 2-core machine
    # with two verifications at once, as passport hashes (one thread per core;
    # services/passport/tools/argon2_rate.py, load 7-11): 19/2 25-26 ms of CPU each, 12/3 23-24,
    # 9/4 21-23, 7/5 21. m=7 MiB t=5 is the cheapest, by 15-20 %: two 19 MiB hashes outgrow the
    # cache they share, two 7 MiB ones do not; and it holds 7 MiB per hash in flight, not 19, for
    # passport's RSS bound. At the peak a log-in may spend 25 ms of CPU (40 per second per core).
    # `_at_least_owasp_argon2` refuses anything weaker than one of OWASP's pairs outside development
    # and test. Stored hashes made with other parameters are rehashed at their next log-in.
    argon2_memory_kib: int = Field(default=7_168, validation_alias="PASSPORT_ARGON2_MEMORY_KIB")
    argon2_time_cost: int = Field(default=5, validation_alias="PASSPORT_ARGON2_TIME_COST")
    argon2_parallelism: int = Field(default=1, validation_alias="PASSPORT_ARGON2_PARALLELISM")
    # Hashing threads, one per core this process may run on: more would not hash faster, only hold
    # more hashes' memory at once (passport.service.passwords).
    password_hash_threads: int = Field(default_factory=lambda: len(os.sched_getaffinity(0)), ge=1, validation_alias="PASSPORT_HASH_THREADS")
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
    # Keys that encrypt staff TOTP seeds at rest (passport.domain.seed_seal): `id=base64key,…`, the
    # first seals. Required outside development and test, where a key derived from the captcha secret stands in.
    totp_seed_keys: str = Field(default="", validation_alias="PASSPORT_TOTP_SEED_KEYS", repr=False)

    @model_validator(mode="after")
    def _at_least_owasp_argon2(self) -> PassportSettings:
        # Cheaper hashing only where no real password lives: the unit tier hashes in microseconds.
        strong = any(self.argon2_memory_kib >= m and self.argon2_time_cost >= t for m, t in OWASP_ARGON2ID) and self.argon2_parallelism >= 1
        if self.environment not in RELAXED_ENVIRONMENTS and not strong:
            raise ValueError("argon2id below OWASP's minimum (m=19456 KiB t=2, 12288 t=3, 9216 t=4 or 7168 t=5; p=1) outside development and test")
        return self

    @model_validator(mode="after")
    def _totp_seed_keys_usable(self) -> PassportSettings:
        self.totp_seed_seal()  # a missing key outside development, or a malformed one, stops the start
        return self

    def totp_seed_seal(self) -> SeedSeal:
        return seed_seal(self.totp_seed_keys, relaxed=self.environment in RELAXED_ENVIRONMENTS, captcha_secret=self.captcha_secret)

    def secret_field_names(self) -> tuple[str, ...]:
        return ("captcha_secret",)
