"""Registration intake: the ``POST /registrations`` request, parsed and validated.

Pure functions (no AWS, no clock): :func:`parse_form` reads the body of an API Gateway
HTTP API (payload v2) event, form-encoded as a browser sends it or JSON, into a
:class:`RegistrationForm`; :func:`build_submission` checks the chosen sessions against the
programme at the request's time and returns the :class:`RegistrationSubmission` to publish.
Every rejection is an :class:`IntakeError`: an HTTP status and one message per field.

Unknown fields are ignored, never forwarded: only the fields below reach the event, so an
extra field (a named submit button, a field added to a newer form, a tracking parameter)
cannot do harm, and rejecting it would turn away people using a cached copy of the page.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from shared.i18n.catalogs import N_
from shared.i18n.messages import Message
from shared.programme.models import Session
from shared.registrations import echoed, zones
from shared.registrations.models import Consent, RegistrationSubmission
from shared.web.forms import IntakeError, read_fields

MAX_SESSIONS = 50
CONSENT_TEXT_VERSION = "2026-11"
ALL_SESSIONS = "all"
DEFAULT_LANGUAGE = "en"

# Upper bound of each text field (characters, after trimming spaces).
TEXT_LIMITS = {
    "full_name": 120,
    "email": 254,
    "organisation": 200,
    "country": 16,
    "role": 120,
    "language": 35,
    "timezone": 64,
    "website": 200,
}
SESSION_ID_LIMIT = 64
LABELS = {
    "full_name": N_("Full name"),
    "email": N_("Email address"),
    "organisation": N_("Organisation"),
    "country": N_("Country"),
    "role": N_("Role"),
    "language": N_("Language"),
    "timezone": N_("Time zone"),
    "sessions": N_("Sessions"),
    "consent": N_("Consent"),
    "website": N_("Website"),
}
"""Each field's label in messages (msgids: translated, then put in the ``%(field)s`` slot)."""
REQUIRED_MESSAGES = {
    "full_name": N_("Enter your full name."),
    "email": N_("Enter your email address."),
    "organisation": N_("Enter the name of your organisation."),
    "country": N_("Choose your country."),
    "sessions": N_("Choose at least one session."),
    "consent": N_("Tick the consent box: we cannot register you without it."),
}
"""The message of each required field left empty (msgids: the page's language translates them,
:func:`shared.web.form_page.field_messages`)."""
MARKUP_FREE = ("full_name", "organisation", "role")
"""The fields echoed into emails and invites: no markup, no links, no encoded words."""

# ISO 3166-1 alpha-2: the 249 officially assigned codes (no user-assigned codes such as XK).
_ASSIGNED_COUNTRY_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
"""
COUNTRY_CODES = frozenset(_ASSIGNED_COUNTRY_CODES.split())
CONSENT_GIVEN = frozenset({"on", "yes", "true"})

# Characters refused in every field: controls (CR, LF, tab, NUL...), lone surrogates,
# line/paragraph separators and the bidirectional overrides used to disguise text.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_EMAIL_LOCAL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_DOMAIN_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_TOP_LEVEL_DOMAIN = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")
_LANGUAGE = re.compile(r"([a-z]{2,3})(?:-([a-z]{4}))?(?:-([a-z]{2}|[0-9]{3}))?", re.IGNORECASE)
_SESSION_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def _invalid(msgid: str, **values: int) -> PydanticCustomError:
    """A refusal: ``msgid`` (``%(field)s`` is the field's label) and its other values."""
    return PydanticCustomError("invalid", msgid, values or None)


def _required() -> PydanticCustomError:
    return PydanticCustomError("required", "required")


class RegistrationForm(BaseModel):
    """The registration form's fields, cleaned: trimmed, NFC-normalised, checked."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    full_name: str
    email: str
    organisation: str
    country: str
    role: str = ""
    language: str | None = None
    """The registrant's language; ``None`` when not given (:func:`build_submission` picks)."""
    timezone: str | None = None
    sessions: list[str]
    consent: bool
    website: str = ""

    @field_validator(*TEXT_LIMITS, mode="before")
    @classmethod
    def _text(cls, value: Any, info: ValidationInfo) -> str:
        return clean_text(value, TEXT_LIMITS[str(info.field_name)])

    @field_validator("full_name", "email", "organisation", "country")
    @classmethod
    def _present(cls, value: str) -> str:
        if not value:
            raise _required()
        return value

    @field_validator("full_name", "organisation")
    @classmethod
    def _named(cls, value: str) -> str:
        """A name has a letter or digit: only invisible, combining or punctuation characters
        (a zero-width space, a byte-order mark, accents on nothing, "-") are no name."""
        if not any(unicodedata.category(char)[0] in "LN" for char in value):
            raise _required()
        return value

    @field_validator(*MARKUP_FREE)
    @classmethod
    def _no_markup(cls, value: str) -> str:
        if "<" in value or ">" in value:
            raise _invalid(N_("%(field)s must not contain < or >."))
        if echoed.has_encoded_word(value):
            raise _invalid(N_("%(field)s must not contain encoded text such as =?utf-8?q?...?=."))
        if echoed.looks_like_link(value):
            raise _invalid(
                N_("%(field)s must not contain web or email addresses (they would be sent on).")
            )
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return check_email(value)

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        code = value.upper()
        if code == "UK":
            raise _invalid(N_("Country code for the United Kingdom is GB."))
        if code not in COUNTRY_CODES:
            raise _invalid(N_("Country must be an ISO 3166-1 two-letter country code such as BE."))
        return code

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if not value:
            return None
        match = _LANGUAGE.fullmatch(value)
        if not match:
            raise _invalid(N_("Language must be a language tag such as en, fr or pt-BR."))
        language, script, region = match.groups()
        parts = [language.lower(), script and script.title(), region and region.upper()]
        return "-".join(p for p in parts if p)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        """Optional and often detected by the page: a zone the server does not know is treated
        as absent (the session's own zone is used), never a reason to refuse."""
        return zones.known(value)

    @field_validator("sessions", mode="before")
    @classmethod
    def _sessions(cls, value: Any) -> list[str]:
        if value is None:
            raise _required()
        if not isinstance(value, list):
            raise _invalid(N_("Sessions must be a list of session ids."))
        if len(value) > MAX_SESSIONS:
            raise _invalid(N_("Sessions must list at most %(limit)s sessions."), limit=MAX_SESSIONS)
        chosen = [clean_text(item, SESSION_ID_LIMIT) for item in value]
        chosen = [ALL_SESSIONS if item.lower() == ALL_SESSIONS else item for item in chosen]
        unique = list(dict.fromkeys(item for item in chosen if item))
        if not unique:
            raise _required()
        return unique

    @field_validator("consent", mode="before")
    @classmethod
    def _consent(cls, value: Any) -> bool:
        if value is True or (isinstance(value, str) and value.strip().lower() in CONSENT_GIVEN):
            return True
        raise _required()

    @field_validator("website")
    @classmethod
    def _honeypot(cls, value: str) -> str:
        if value:
            raise _invalid(N_("Website field must be left empty."))
        return value


def clean_text(value: Any, limit: int) -> str:
    """Text of at most ``limit`` characters, NFC, trimmed; no control or bidi characters."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _invalid(N_("%(field)s must be text."))
    if any(
        unicodedata.category(char) in _REFUSED_CATEGORIES or char in _BIDI_CONTROLS
        for char in value
    ):
        raise _invalid(
            N_("%(field)s must not contain line breaks, tabs or other control characters.")
        )
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) > limit:
        raise _invalid(N_("%(field)s must be at most %(limit)s characters."), limit=limit)
    return text


def check_email(value: str) -> str:
    """A deliverable-looking address (dot-atom local part, LDH or IDN domain), domain in ASCII.

    Quoted local parts, IP-literal domains and non-ASCII local parts are refused: they are
    valid in theory, rare in practice and not reliably delivered.
    """
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise _invalid(N_("Email address must look like name@example.org."))
    if len(local) > 64 or not _EMAIL_LOCAL.fullmatch(local):
        raise _invalid(N_("Email address has a part before the @ that is not valid."))
    if "=?" in local or "?=" in local:  # read as an encoded word by mail parsers
        raise _invalid(N_("Email address must not contain =? or ?= before the @."))
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        ascii_domain = ""
    labels = ascii_domain.split(".")
    if (
        len(labels) < 2
        or len(ascii_domain) > 253
        or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels)
        or not _TOP_LEVEL_DOMAIN.fullmatch(labels[-1])
    ):
        raise _invalid(N_("Email address has a domain (after the @) that is not valid."))
    address = f"{local}@{ascii_domain}"
    if len(address) > TEXT_LIMITS["email"]:
        raise _invalid(
            N_("%(field)s must be at most %(limit)s characters."), limit=TEXT_LIMITS["email"]
        )
    return address


def parse_form(event: Mapping[str, Any]) -> RegistrationForm:
    """The registration form in an HTTP API (v2) event; :class:`IntakeError` if unusable."""
    fields = read_fields(event, labels=LABELS, repeated=frozenset({"sessions"}))
    try:
        return RegistrationForm.model_validate(fields)
    except ValidationError as exc:
        raise IntakeError(400, field_errors(exc)) from exc


def field_errors(exc: ValidationError) -> dict[str, str]:
    """One message per field, in the order the fields failed: each a
    :class:`~shared.i18n.messages.Message` (English, translatable), the field's label in it."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "body"
        if field in errors:
            continue
        label = Message(LABELS[field]) if field in LABELS else field
        if error["type"] in ("missing", "required"):
            required = REQUIRED_MESSAGES.get(field, N_("%(field)s is required."))
            errors[field] = Message(required, field=label)
        elif error["type"] == "invalid":
            errors[field] = Message(error["msg"], field=label, **(error.get("ctx") or {}))
        else:
            errors[field] = Message(N_("%(field)s is not valid."), field=label)
    return errors


def build_submission(
    form: RegistrationForm,
    programme: Iterable[Session],
    now: datetime,
    language: str = DEFAULT_LANGUAGE,
) -> RegistrationSubmission:
    """The event data for a valid form: sessions resolved at ``now``, a fresh reference. The
    registration's language is the form's ``language`` field, else ``language`` (the API passes
    the page language: ``?lang=``, else ``Accept-Language``), so a client that reads French
    errors also gets French emails unless it asks otherwise."""
    return RegistrationSubmission(
        reference=new_reference(),
        full_name=form.full_name,
        email=form.email,
        organisation=form.organisation,
        country=form.country,
        role=form.role,
        language=form.language or language,
        timezone=form.timezone,
        sessions=resolve_sessions(form.sessions, programme, now),
        consent=Consent(given_at=now, text_version=CONSENT_TEXT_VERSION),
        submitted_at=now,
    )


def resolve_sessions(
    chosen: Iterable[str], programme: Iterable[Session], now: datetime
) -> list[str]:
    """The chosen ids (``all``: every open session), each checked open at ``now``, by start."""
    by_id = {session.session_id: session for session in programme}
    open_ids = {sid for sid, session in by_id.items() if session.is_open_at(now)}
    selected: set[str] = set()
    for wanted in chosen:
        if wanted == ALL_SESSIONS:
            selected |= open_ids
        elif wanted not in by_id:
            unknown = (
                Message(N_("Sessions: “%(session)s” is not in the programme."), session=wanted)
                if _SESSION_ID.fullmatch(wanted)
                else Message(N_("Sessions: one of your choices is not in the programme."))
            )
            raise IntakeError(400, {"sessions": unknown})
        elif wanted not in open_ids:
            closed = N_("Sessions: registration for “%(title)s” is closed.")
            raise IntakeError(400, {"sessions": Message(closed, title=by_id[wanted].title_in)})
        else:
            selected.add(wanted)
    if not selected:
        none_open = N_("Sessions: no session is open for registration at the moment.")
        raise IntakeError(400, {"sessions": Message(none_open)})
    return sorted(selected, key=lambda sid: (by_id[sid].start, sid))


def new_reference() -> str:
    """A fresh registration reference ``KBS-XXXX-XXXX`` (40 random bits)."""
    code = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"KBS-{code[:4]}-{code[4:]}"


def request_body() -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of ``POST /registrations``: the form's fields (limits and
    required ones as :class:`RegistrationForm` checks them), form-encoded or JSON."""
    text = {
        name: {"type": "string", "title": LABELS[name], "maxLength": limit}
        for name, limit in TEXT_LIMITS.items()
    }
    session_ids = {"type": "array", "maxItems": MAX_SESSIONS, "items": {"type": "string"}}
    required = [name for name in LABELS if name in REQUIRED_MESSAGES]

    def schema(sessions: dict[str, Any], consent: dict[str, Any]) -> dict[str, Any]:
        properties = {**text, "sessions": sessions, "consent": consent}
        return {"type": "object", "properties": properties, "required": required}

    consent_text = {"type": "string", "enum": sorted(CONSENT_GIVEN)}
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": schema(session_ids, consent_text),
                "encoding": {"sessions": {"style": "form", "explode": True}},
            },
            "application/json": {
                "schema": schema(
                    {"anyOf": [session_ids, {"type": "string"}]},
                    {"anyOf": [{"type": "boolean"}, consent_text]},
                )
            },
        },
    }
