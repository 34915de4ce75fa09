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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]
