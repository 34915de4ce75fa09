"""Sessions of the programme, and the value types every domain shares (zones, instants, ids)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl

from shared.i18n.languages import ENGLISH, SUPPORTED, resolve


def _iana_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("must be an IANA time zone such as Europe/Brussels") from exc
    return value


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must include a UTC offset")
    return value.astimezone(UTC)


def _per_language(value: dict[str, str] | None) -> dict[str, str] | None:
    unknown = sorted(set(value or {}) - set(SUPPORTED) - {ENGLISH})
    if unknown:
        raise ValueError(f"languages must be among {', '.join(SUPPORTED[1:])}; not {unknown[0]}")
    return value or None


IanaZone = Annotated[str, AfterValidator(_iana_zone)]
AwareDatetime = Annotated[datetime, AfterValidator(_aware_utc)]
SessionId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]


class SessionKind(StrEnum):
    WEBINAR = "webinar"
    WORKSHOP = "workshop"


class SessionStatus(StrEnum):
    OPEN = "open"
    LIVE = "live"
    ENDED = "ended"
    CANCELLED = "cancelled"


class Session(BaseModel):
    """One webinar or workshop of the series."""

    model_config = ConfigDict(frozen=True)

    session_id: SessionId
    title: Annotated[str, Field(min_length=3, max_length=200)]
    kind: SessionKind
    category: Annotated[str, Field(min_length=2, max_length=100)]
    start: AwareDatetime
    timezone: IanaZone
    duration_minutes: Annotated[int, Field(gt=0, le=600)] = 90
    capacity: Annotated[int, Field(gt=0, le=100_000)]
    join_url: HttpUrl
    description: Annotated[str, Field(max_length=2000)] = ""
    title_i18n: Annotated[
        dict[str, Annotated[str, Field(min_length=3, max_length=200)]] | None,
        AfterValidator(_per_language),
    ] = None
    """The title in other languages, e.g. ``{"fr": "..."}`` (a language left out: ``title``)."""
    description_i18n: Annotated[
        dict[str, Annotated[str, Field(max_length=2000)]] | None, AfterValidator(_per_language)
    ] = None
    """The description in other languages (a language left out: ``description``)."""
    speakers: tuple[Annotated[str, Field(min_length=2, max_length=120)], ...] = Field(
        default=(), max_length=20
    )
    """Who presents, as the page lists them (names, optionally "Name, Organisation")."""
    status: SessionStatus = SessionStatus.OPEN
    sequence: int = 0
    """iCalendar SEQUENCE: bumped on every reschedule or cancellation."""

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.duration_minutes)

    def title_in(self, language: str | None) -> str:
        """The title in ``language`` (any tag) when the programme gives it, else ``title``."""
        return (self.title_i18n or {}).get(resolve(language)) or self.title

    def description_in(self, language: str | None) -> str:
        """The description in ``language`` when the programme gives it, else ``description``."""
        return (self.description_i18n or {}).get(resolve(language)) or self.description

    def is_open_at(self, now: datetime) -> bool:
        """Open for registration: scheduled, not cancelled, not yet ended."""
        return self.status in (SessionStatus.OPEN, SessionStatus.LIVE) and now < self.end


class SessionAvailability(BaseModel):
    """A session with its booking counters, as read from the table."""

    session: Session
    confirmed: int = 0
    waitlisted: int = 0

    @property
    def places_left(self) -> int:
        return max(0, self.session.capacity - self.confirmed)
