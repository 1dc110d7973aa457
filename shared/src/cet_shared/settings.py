"""Settings base: every service reads its configuration from the environment.

Secrets have no usable default: outside development and test, a missing or placeholder secret
stops the service at start-up instead of running with a value anyone can read in this repo.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "dev", "development", "test"}
RELAXED_ENVIRONMENTS = {"development", "test"}


class ServiceSettings(BaseSettings):
    """Fields every service has. Subclasses add their own and set `env_prefix` if they like."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None, validate_by_name=True, validate_by_alias=True)

    service_name: str
    environment: Literal["development", "test", "staging", "production"] = Field(default="development", validation_alias="CET_ENV")
    database_url: str
    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    captcha_secret: str = Field(default="", validation_alias="CAPTCHA_SECRET")
    # Where services fetch passport's public keys (JWKS); an http(s) URL or a file path.
    jwks_url: str = Field(default="http://127.0.0.1:8001/.well-known/jwks.json", validation_alias="JWKS_URL")
    jwt_issuer: str = Field(default="cet-passport", validation_alias="JWT_ISSUER")
    jwt_audience: str = Field(default="cet-suite", validation_alias="JWT_AUDIENCE")
    otel_exporter_otlp_endpoint: str | None = Field(default=None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    db_pool_size: int = 10
    db_max_overflow: int = 10
    outbox_poll_interval: timedelta = timedelta(milliseconds=200)
    outbox_batch_size: int = 500
    consumer_max_attempts: int = 3
    # Retention (cet_shared.housekeeping): the inbox must remember events longer than the topics keep them.
    outbox_retention: timedelta = timedelta(days=3)
    inbox_retention: timedelta = timedelta(days=21)
    # Static group membership: stable across restarts of one worker process, unique among them
    # (a StatefulSet pod name). Unset: the host name (one worker per service and host).
    worker_instance_id: str | None = Field(default=None, validation_alias="WORKER_INSTANCE_ID")
    # Prepended to every topic and consumer group; lets test runs share one broker in isolation.
    kafka_topic_prefix: str = Field(default="", validation_alias="KAFKA_TOPIC_PREFIX")

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> ServiceSettings:
        if self.environment in RELAXED_ENVIRONMENTS:
            return self
        for name in self.secret_field_names():
            value = getattr(self, name)
            if value is None or str(value).strip().lower() in PLACEHOLDER_SECRETS or len(str(value)) < 16:
                raise ValueError(f"{name} must be set to a real secret outside development (environment={self.environment})")
        return self

    def secret_field_names(self) -> tuple[str, ...]:
        """Fields that must hold a real secret outside development. Subclasses extend."""
        return ("captcha_secret",)
