"""Runtime settings: a pydantic model read from the environment once, lazily.

Only handlers call :func:`get_settings`; domain code receives values as arguments. A plain
pydantic model, not pydantic-settings: the Lambda runtime has pydantic (Powertools layer) and
nothing else, and pydantic-settings alone costs ~30 ms of cold start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

PREFIX = "KBS_"


class Settings(BaseModel):
    """Environment of a Lambda function (set by the CDK stack or by ``kbs serve``): each field
    from the variable ``KBS_`` + its name in upper case."""

    model_config = ConfigDict(extra="ignore", frozen=True)

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
    # Queue consumers: JSON ``{source queue ARN: its dead-letter queue URL}``, where a record
    # that can never succeed goes at once (``shared.platform.records.drain``).
    dead_letter_queues: str = ""
    # SES sends a second per email sender (0: unpaced); times its concurrency, the account's rate.
    email_send_rate: float = 0.0
    # The follow-up's feedback form (the session id is added as ``?session=``); empty: a reply
    # to the series address.
    feedback_url: str = ""
    # How the emails and the page present the series (``kbs:seriesName``, ``kbs:logoUrl``: an
    # https image shown atop each email's HTML part; empty: the name alone).
    series_name: str = "Knowledge Building Series"
    logo_url: str = ""
    # The organisers' privacy notice and contact address, linked from the registration page
    # (``kbs:privacyUrl``, ``kbs:contactEmail``; empty: the contact is the sender address).
    privacy_url: str = ""
    contact_email: str = ""
    # Personal data is kept this many days after its session ends (DynamoDB TTL ``expiration``).
    retention_days: int = Field(default=365, ge=1)
    # Attendance (and certificates) are proof of professional development: kept this many years
    # after their session ends (``kbs:recordRetentionYears``), even once registrations expire.
    record_retention_years: int = Field(default=6, ge=1)
    # Caps on submissions (shared.registrations.caps; 0: no cap): per address and UTC day, per
    # client IP and UTC hour. ``kbs serve`` exempts loopback clients unless asked not to.
    cap_per_address_per_day: int = Field(default=5, ge=0)
    cap_per_client_per_hour: int = Field(default=20, ge=0)
    cap_exempt_loopback: bool = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """The settings in ``environ`` (``KBS_TABLE_NAME`` is ``table_name``, and so on)."""
        return cls.model_validate(
            {
                k[len(PREFIX) :].lower(): v
                for k, v in environ.items()
                if k.upper().startswith(PREFIX)
            }
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_environment()
