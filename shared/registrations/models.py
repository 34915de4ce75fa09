"""Registrations: a submission from the form, and one registrant's place in one session."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.programme.models import AwareDatetime, IanaZone, SessionId


def normalise_email(email: str) -> str:
    """Email addresses are case-insensitive identities: one canonical form everywhere."""
    return email.strip().lower()


class Consent(BaseModel):
    given_at: AwareDatetime
    text_version: str


class RegistrationSubmission(BaseModel):
    """A validated registration form: the ``data`` of a ``Registration Submitted`` event.

    ``sessions`` holds resolved session ids ("all" is expanded at intake).
    """

    model_config = ConfigDict(frozen=True)

    reference: Annotated[str, Field(pattern=r"^KBS-[A-Z0-9]{4}-[A-Z0-9]{4}$")]
    full_name: Annotated[str, Field(min_length=1, max_length=120)]
    email: Annotated[str, Field(min_length=3, max_length=254)]
    organisation: Annotated[str, Field(min_length=1, max_length=200)]
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    role: Annotated[str, Field(max_length=120)] = ""
    language: Annotated[str, Field(max_length=35)] = "en"
    timezone: IanaZone | None = None
    sessions: Annotated[list[SessionId], Field(min_length=1, max_length=50)]
    consent: Consent
    submitted_at: AwareDatetime

    @property
    def email_key(self) -> str:
        return normalise_email(self.email)


class RegistrationStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class Registration(BaseModel):
    """One registrant's place (or waitlist entry) in one session."""

    session_id: SessionId
    email: str
    """Canonical (lower-case) address: the registrant's identity."""
    reference: str
    full_name: str
    organisation: str
    country: str
    role: str = ""
    language: str = "en"
    timezone: str | None = None
    status: RegistrationStatus
    registered_at: AwareDatetime
    consent: Consent
