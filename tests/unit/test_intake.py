"""Registration intake: parsing real API Gateway events, validation, session resolution."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.programme.catalogue import load_programme
from shared.programme.models import Session, SessionStatus
from shared.registrations import intake
from shared.registrations.intake import RegistrationForm, build_submission, parse_form
from shared.web import forms
from shared.web.forms import IntakeError
from tests.conftest import EVENTS, load_event

FORM_EVENT = "api/post-registration-form.json"
JSON_EVENT = "api/post-registration-json.json"
NOW = datetime.fromtimestamp(load_event(FORM_EVENT)["requestContext"]["timeEpoch"] / 1000, UTC)
PROGRAMME = load_programme(EVENTS / "programme.sample.json", NOW)


def sample_fields() -> list[tuple[str, str]]:
    event = load_event(FORM_EVENT)
    return parse_qsl(base64.b64decode(event["body"]).decode(), keep_blank_values=True)


def form_event(body: bytes | str, *, content_type: str = forms.FORM_CONTENT_TYPE) -> dict[str, Any]:
    """The browser form sample with another body (bytes: base64-encoded like API Gateway)."""
    event = load_event(FORM_EVENT)
    event["headers"]["content-type"] = content_type
    if isinstance(body, bytes):
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    else:
        event["body"], event["isBase64Encoded"] = body, False
    return event


def form_with(**changes: str | None) -> dict[str, Any]:
    """The sample form with fields replaced (``None`` removes them)."""
    fields = [(k, v) for k, v in sample_fields() if k not in changes]
    fields += [(k, v) for k, v in changes.items() if v is not None]
    return form_event(urlencode(fields).encode())


def json_with(**changes: Any) -> dict[str, Any]:
    event = load_event(JSON_EVENT)
    document = {**json.loads(event["body"]), **changes}
    event["body"] = json.dumps({k: v for k, v in document.items() if v is not None})
    return event


def errors_of(event: dict[str, Any], status: int = 400) -> dict[str, str]:
    with pytest.raises(IntakeError) as caught:
        parse_form(event)
    assert caught.value.status == status
    return caught.value.errors


def test_a_browser_form_post_is_parsed_exactly() -> None:
    form = parse_form(load_event(FORM_EVENT))

    assert form == RegistrationForm(
        full_name="Zoë Åkesson",
        email="zoe.akesson@upphandling.example.se",
        organisation="Region Östergötland \N{EN DASH} Upphandling",
        country="SE",
        role="Category manager, ICT",
        language="sv",
        timezone="Europe/Stockholm",
        sessions=["kbs-01-ict-hardware", "kbs-03-textiles"],
        consent=True,
    )


def test_a_json_post_is_parsed_and_the_email_domain_lowered() -> None:
    form = parse_form(load_event(JSON_EVENT))

    assert form.email == "JL.Dubois@achats.example.fr"
    assert form.sessions == ["all"]
    assert form.consent is True


def test_a_plain_text_body_with_a_charset_and_unknown_fields_is_accepted() -> None:
    body = urlencode([*sample_fields(), ("submit", "Register"), ("utm_source", "mail")])
    event = form_event(body, content_type="Application/X-WWW-Form-Urlencoded; charset=UTF-8")

    form = parse_form(event)

    assert form.full_name == "Zoë Åkesson"
    assert "submit" not in form.model_dump()


@pytest.mark.parametrize(
    ("changes", "field", "value"),
    [
        ({"full_name": "  Zoe\u0308  Åkesson "}, "full_name", "Zoë  Åkesson"),
        ({"country": " se"}, "country", "SE"),
        ({"language": "PT-br"}, "language", "pt-BR"),
        ({"language": "zh-hant-tw"}, "language", "zh-Hant-TW"),
        ({"language": ""}, "language", None),  # not given: the page language
        ({"timezone": ""}, "timezone", None),
        # An optional, detected value never blocks a registration: unknown zones are dropped.
        ({"timezone": "Etc/Unknown"}, "timezone", None),
        ({"timezone": "Mars/Olympus"}, "timezone", None),
        ({"timezone": "../../etc/passwd"}, "timezone", None),
        ({"timezone": "posix/Europe/Paris"}, "timezone", None),
        ({"timezone": "localtime"}, "timezone", None),
        ({"timezone": "US/Eastern"}, "timezone", "US/Eastern"),
        ({"timezone": "Asia/Calcutta"}, "timezone", "Asia/Calcutta"),
        ({"full_name": "J.R. Smith"}, "full_name", "J.R. Smith"),
        ({"organisation": "Procurement.ie"}, "organisation", "Procurement.ie"),
        ({"organisation": "St. Gallen"}, "organisation", "St. Gallen"),
        ({"organisation": "Procurement.ie / ICT"}, "organisation", "Procurement.ie / ICT"),
        ({"role": "Head of IT/Procurement"}, "role", "Head of IT/Procurement"),
        ({"full_name": "Dr. Ana-María O'Neil"}, "full_name", "Dr. Ana-María O'Neil"),
        ({"full_name": "Who? =Me"}, "full_name", "Who? =Me"),
        ({"role": None}, "role", ""),
        ({"consent": "YES"}, "consent", True),
        ({"email": "Zoë@Bücher.Example"}, "email", None),
        ({"email": "o'brien+kbs@Bücher.Example"}, "email", "o'brien+kbs@xn--bcher-kva.example"),
        ({"sessions": "ALL"}, "sessions", ["all"]),
    ],
)
def test_fields_are_normalised(changes: dict[str, str | None], field: str, value: Any) -> None:
    if field == "email" and value is None:
        assert "email" in errors_of(form_with(**changes))  # non-ASCII local part
        return
    assert getattr(parse_form(form_with(**changes)), field) == value


def test_repeated_sessions_are_deduplicated_in_order() -> None:
    body = urlencode(
        [(k, v) for k, v in sample_fields() if k != "sessions"]
        + [("sessions", s) for s in ("kbs-03-textiles", "kbs-01-ict-hardware", "kbs-03-textiles")]
    )
    assert parse_form(form_event(body)).sessions == ["kbs-03-textiles", "kbs-01-ict-hardware"]


@pytest.mark.parametrize(
    "address",
    ["a@b.co", "first.last@sub.example.org", "x_y-z+tag@example.museum", "a@xn--bcher-kva.example"],
)
def test_valid_email_addresses(address: str) -> None:
    assert intake.check_email(address) == address


@pytest.mark.parametrize(
    "address",
    [
        "plainaddress",
        "@example.org",
        "name@",
        "name@example",
        "name@localhost",
        "name@-example.org",
        "name@example-.org",
        "name@exa_mple.org",
        "name@example..org",
        "name@example.org.",
        "name@[192.0.2.1]",
        "name@192.0.2.1",
        '"quoted"@example.org',
        "two..dots@example.org",
        ".start@example.org",
        "end.@example.org",
        "sp ace@example.org",
        "a@b@example.org",
        "x" * 65 + "@example.org",
        "a@" + "b" * 64 + ".org",
        "a@" + ".".join(["abcdefghij"] * 25) + ".org",
        "name@example.c",
        "name@example.123",
    ],
)
def test_invalid_email_addresses(address: str) -> None:
    with pytest.raises(ValueError, match=r"Email|before the @|domain|look like|at most"):
        RegistrationForm.model_validate(
            {**parse_form(load_event(FORM_EVENT)).model_dump(), "email": address}
        )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"full_name": None}, "full_name", "Enter your full name."),
        ({"full_name": "   "}, "full_name", "Enter your full name."),
        ({"full_name": "\u200b"}, "full_name", "Enter your full name."),  # zero-width space
        ({"full_name": "\ufeff\u2060"}, "full_name", "Enter your full name."),  # BOM, joiner
        ({"full_name": "\u0301\u0301\u0301"}, "full_name", "Enter your full name."),
        ({"full_name": "-"}, "full_name", "Enter your full name."),
        ({"full_name": ". ."}, "full_name", "Enter your full name."),
        ({"organisation": "\u200b\u200b"}, "organisation", "Enter the name of your organisation"),
        ({"email": None}, "email", "Enter your email address."),
        ({"organisation": None}, "organisation", "Enter the name of your organisation."),
        ({"country": None}, "country", "Choose your country."),
        ({"sessions": None}, "sessions", "Choose at least one session."),
        ({"sessions": ""}, "sessions", "Choose at least one session."),
        ({"consent": None}, "consent", "Tick the consent box"),
        ({"consent": "no"}, "consent", "Tick the consent box"),
        ({"full_name": "x" * 121}, "full_name", "Full name must be at most 120 characters."),
        ({"organisation": "x" * 201}, "organisation", "Organisation must be at most 200"),
        ({"role": "x" * 121}, "role", "Role must be at most 120 characters."),
        ({"full_name": "<script>alert(1)</script>"}, "full_name", "must not contain < or >"),
        ({"organisation": "ACME\r\nBcc: x@example.org"}, "organisation", "line breaks"),
        ({"full_name": "Zoë\x00"}, "full_name", "control characters"),
        ({"role": "a\tb"}, "role", "control characters"),
        ({"full_name": "abc\u202egnp.exe"}, "full_name", "control characters"),
        ({"email": "not-an-email"}, "email", "Email address must look like name@example.org."),
        ({"country": "XX"}, "country", "ISO 3166-1 two-letter country code"),
        ({"country": "UK"}, "country", "Country code for the United Kingdom is GB."),
        ({"country": "SWE"}, "country", "ISO 3166-1"),
        ({"language": "english!"}, "language", "Language must be a language tag"),
        ({"full_name": "=?utf-8?q?Eve=0D=0ABcc=3A_x=40evil.example?="}, "full_name", "encoded"),
        ({"organisation": "ACME =?utf-8?b?QmNjOiB4QGV2aWwuZXhhbXBsZQ==?="}, "organisation", "=?"),
        ({"role": "=?iso-8859-1?q?x?="}, "role", "Role must not contain encoded text"),
        (
            {"full_name": "Your refund is ready: https://refund.example.net/claim"},
            "full_name",
            "Full name must not contain web or email addresses",
        ),
        ({"organisation": "www.refund.example"}, "organisation", "web or email addresses"),
        ({"role": "see refund.example.net/claim"}, "role", "web or email addresses"),
        ({"full_name": "Claim at HTTPS:\u2215\u2215x"}, "full_name", "web or email addresses"),
        ({"full_name": "\uff48\uff54\uff54\uff50\uff53\uff1a//x.example"}, "full_name", "web"),
        ({"organisation": "write to refunds@refund.example"}, "organisation", "web or email"),
        ({"email": "=?utf-8?q?x?=@example.org"}, "email", "must not contain =? or ?="),
        ({"website": "http://spam.example"}, "website", "Website field must be left empty."),
    ],
)
def test_each_bad_field_gets_one_clear_message(
    changes: dict[str, str | None], field: str, message: str
) -> None:
    errors = errors_of(form_with(**changes))

    assert list(errors) == [field]
    assert message in errors[field]


def test_all_missing_fields_are_reported_together() -> None:
    errors = errors_of(form_event(b""))

    assert set(errors) == {"full_name", "email", "organisation", "country", "sessions", "consent"}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"full_name": 42}, "full_name", "Full name must be text."),
        ({"email": ["a@b.co"]}, "email", "Email address must be text."),
        ({"sessions": {"id": "kbs-01-ict-hardware"}}, "sessions", "must be a list of session ids"),
        ({"sessions": [1, 2]}, "sessions", "Sessions must be text."),
        ({"sessions": []}, "sessions", "Choose at least one session."),
        ({"sessions": ["kbs-01-ict-hardware"] * 51}, "sessions", "at most 50 sessions"),
        ({"consent": False}, "consent", "Tick the consent box"),
        ({"consent": 1}, "consent", "Tick the consent box"),
        ({"full_name": None}, "full_name", "Enter your full name."),
    ],
)
def test_wrongly_typed_json_fields_are_named(
    changes: dict[str, Any], field: str, message: str
) -> None:
    errors = errors_of(json_with(**changes))

    assert list(errors) == [field]
    assert message in errors[field]


@pytest.mark.parametrize(
    ("event", "status", "field", "message"),
    [
        (form_event(b"full_name=%FF%FE"), 400, "body", "not valid UTF-8"),
        (form_event(b"\xff\xfe\xfd"), 400, "body", "not valid UTF-8"),
        (form_event("full_name=\udcff"), 400, "body", "not valid UTF-8"),
        ({**form_event(b""), "body": "!!!not base64!!!"}, 400, "body", "not valid base64"),
        ({**form_event(b""), "body": "Zm9v\u00e9"}, 400, "body", "not valid base64"),
        (form_event(b"a=b&" * 16 * 1024), 413, "body", "at most 16 KiB"),
        (form_event(b"x" * (16 * 1024 + 1)), 413, "body", "at most 16 KiB"),
        (form_event("&".join(f"f{i}=x" for i in range(101))), 400, "body", "at most 100 fields"),
        (form_event("email=a@b.co&email=c@d.co"), 400, "email", "given only once"),
        (form_event("{}", content_type="text/plain"), 415, "content_type", "Content type"),
        (form_event("{}", content_type=""), 415, "content_type", "Content type"),
        (
            form_event("a=b", content_type="multipart/form-data; boundary=x"),
            415,
            "content_type",
            "",
        ),
        (
            form_event("a=b", content_type="application/x-www-form-urlencoded; charset=latin-1"),
            415,
            "content_type",
            "charset UTF-8",
        ),
        (form_event("[1, 2]", content_type="application/json"), 400, "body", "JSON object"),
        (form_event('{"email": ', content_type="application/json"), 400, "body", "JSON object"),
        (form_event("[" * 5000 + "]" * 5000, content_type="application/json"), 400, "body", ""),
        (
            form_event('{"email": "a", "email": "b"}', content_type="application/json"),
            400,
            "email",
            "twice",
        ),
        (form_event("", content_type="application/json"), 400, "body", "JSON object"),
    ],
)
def test_unusable_bodies_are_refused(
    event: dict[str, Any], status: int, field: str, message: str
) -> None:
    errors = errors_of(event, status)

    assert list(errors) == [field]
    assert message in errors[field]


def test_the_submission_resolves_sessions_at_the_request_time() -> None:
    form = parse_form(load_event(FORM_EVENT))

    submission = build_submission(form, PROGRAMME, NOW)

    assert re.fullmatch(r"KBS-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", submission.reference)
    assert submission.sessions == ["kbs-01-ict-hardware", "kbs-03-textiles"]
    assert submission.consent.given_at == NOW == submission.submitted_at
    assert submission.consent.text_version == intake.CONSENT_TEXT_VERSION
    assert submission.full_name == "Zoë Åkesson"


def test_all_means_every_open_session_in_start_order() -> None:
    closed = PROGRAMME[1].model_copy(update={"status": SessionStatus.CANCELLED})
    past = PROGRAMME[2].model_copy(update={"start": NOW - timedelta(days=2)})
    programme = [closed, past, *PROGRAMME[3:], PROGRAMME[0]]
    form = parse_form(json_with(sessions=["all", PROGRAMME[0].session_id]))

    submission = build_submission(form, programme, NOW)

    assert submission.sessions == [PROGRAMME[0].session_id] + [s.session_id for s in PROGRAMME[3:]]


def test_a_session_that_started_is_still_open_until_it_ends() -> None:
    live = PROGRAMME[0].model_copy(update={"start": NOW - timedelta(minutes=30)})
    form = parse_form(json_with(sessions=[live.session_id]))

    assert build_submission(form, [live], NOW).sessions == [live.session_id]
    with pytest.raises(IntakeError, match="sessions"):
        build_submission(form, [live], NOW + timedelta(minutes=61))


@pytest.mark.parametrize(
    ("programme", "chosen", "message"),
    [
        (PROGRAMME, ["kbs-99-unknown"], "Sessions: “kbs-99-unknown” is not in the programme."),
        (PROGRAMME, ["<b>x</b>"], "Sessions: one of your choices is not in the programme."),
        (
            [PROGRAMME[0].model_copy(update={"status": SessionStatus.CANCELLED})],
            [PROGRAMME[0].session_id],
            f"Sessions: registration for “{PROGRAMME[0].title}” is closed.",
        ),
        (
            [PROGRAMME[0].model_copy(update={"start": NOW - timedelta(days=1)})],
            [PROGRAMME[0].session_id],
            "is closed",
        ),
        ([], ["all"], "Sessions: no session is open for registration at the moment."),
    ],
)
def test_unknown_or_closed_sessions_are_refused(
    programme: list[Session], chosen: list[str], message: str
) -> None:
    form = parse_form(json_with(sessions=chosen))

    with pytest.raises(IntakeError) as caught:
        build_submission(form, programme, NOW)

    assert caught.value.status == 400
    assert (
        caught.value.errors == {"sessions": message} or message in caught.value.errors["sessions"]
    )


def test_references_are_fresh() -> None:
    references = {intake.new_reference() for _ in range(1000)}

    assert len(references) == 1000


def test_the_country_list_is_the_assigned_iso_3166_codes() -> None:
    assert len(intake.COUNTRY_CODES) == 249
    assert {"BE", "SE", "GB", "SS", "CW", "AX", "BQ"} <= intake.COUNTRY_CODES
    assert not {"UK", "XK", "EU", "AN", "YU"} & intake.COUNTRY_CODES


FIELD_NAMES = st.sampled_from([*intake.LABELS, "submit", "", "sessions", "sessions"])
SESSION_VALUES = st.sampled_from([s.session_id for s in PROGRAMME] + ["all", "", "nope"])
TEXT = st.one_of(st.text(max_size=300), st.sampled_from(["on", "SE", "a@b.co", "Europe/Paris"]))


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Arbitrary bytes, or forms and JSON documents with plausible and hostile values."""
    kind = draw(st.sampled_from(["bytes", "form", "json", "mutated"]))
    if kind == "mutated":  # the valid sample with a few fields replaced or dropped
        changes = draw(st.dictionaries(FIELD_NAMES, st.none() | TEXT | SESSION_VALUES, max_size=3))
        fields = [(k, v) for k, v in sample_fields() if k not in changes]
        fields += [(k, v) for k, v in changes.items() if v is not None]
        raw, content_type = urlencode(fields).encode(), forms.FORM_CONTENT_TYPE
    elif kind == "bytes":
        raw = draw(st.binary(max_size=2000))
        content_type = draw(
            st.sampled_from([forms.FORM_CONTENT_TYPE, forms.JSON_CONTENT_TYPE, "text/plain"])
        )
    elif kind == "form":
        pairs = draw(
            st.lists(
                st.one_of(
                    st.tuples(FIELD_NAMES, TEXT), st.tuples(st.just("sessions"), SESSION_VALUES)
                ),
                max_size=30,
            )
        )
        raw, content_type = urlencode(pairs).encode(), forms.FORM_CONTENT_TYPE
    else:
        values = st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.text(max_size=5), inner, max_size=4)
            ),
            max_leaves=10,
        )
        document = draw(st.dictionaries(FIELD_NAMES, values | SESSION_VALUES, max_size=12))
        raw, content_type = json.dumps(document).encode(), forms.JSON_CONTENT_TYPE
    encoded = draw(st.booleans())
    event = form_event(
        raw if encoded else raw.decode("utf-8", "replace"), content_type=content_type
    )
    return event


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=bodies())
def test_arbitrary_bodies_give_a_submission_or_an_intake_error(event: dict[str, Any]) -> None:
    try:
        submission = build_submission(parse_form(event), PROGRAMME, NOW)
    except IntakeError as error:
        assert 400 <= error.status < 500
        assert error.errors and all(isinstance(m, str) and m for m in error.errors.values())
    else:
        assert submission.sessions and submission.consent.given_at == NOW
