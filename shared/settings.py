"""Runtime settings: a pydantic model read from the environment once, lazily.

Only handlers call :func:`get_settings`; domain code receives values as arguments.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Environment of a Lambda function (set by the CDK stack or by ``kbs serve``)."""

    model_config = SettingsConfigDict(env_prefix="KBS_", extra="ignore", frozen=True)

    table_name: str
    event_bus_name: str = "default"
    bucket_name: str = ""
    sender_email: str = "series@example.org"
    configuration_set: str = ""
    public_base_url: str = "http://127.0.0.1:8000"
    # Link-signing key: in AWS the name of a Secrets Manager secret; locally the key itself.
    link_secret_name: str = ""
    link_secret: str = Field(default="", repr=False)
    # Materials: who hears about rejected uploads, and the largest file accepted.
    organiser_email: str = "organisers@example.org"
    material_max_bytes: int = 50 * 1024 * 1024
    # Work queues (``infra.wiring.WorkQueue``): set only for the functions that may send to them.
    email_batches_queue_url: str = ""
    # SES sends a second per email sender (0: unpaced); times its concurrency, the account's rate.
    email_send_rate: float = 0.0
    # Personal data is kept this many days after its session ends (DynamoDB TTL ``expiration``).
    retention_days: int = Field(default=365, ge=1)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]
