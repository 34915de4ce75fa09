"""The API function on moto: real Powertools resolver, real DynamoDB and EventBridge (moto).

Published events are captured by a rule on the bus with an SQS target, as in the local stack.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from botocore.stub import Stubber
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.core import DEFAULT_ACCOUNT_ID

from functions.api.handler import handler
from functions.registration_processor.handler import handler as processor
from infra.wiring import REGISTRATION_SUBMITTED, SOURCE_REGISTRATIONS, SOURCE_SESSIONS
from shared.platform import clients
from shared.platform.events import MAX_ATTEMPTS
from shared.programme import repository
from shared.programme.catalogue import load_programme
from shared.programme.models import SessionStatus
from shared.registrations import intake, store
from shared.web import forms
from shared.web.pages import prefers_html
from tests.conftest import BUS_NAME, EVENTS, TABLE_NAME, load_event
from tests.support import Context, sent_emails, sqs_batch

FORM_EVENT = "api/post-registration-form.json"
JSON_EVENT = "api/post-registration-json.json"
NOW = datetime.fromtimestamp(load_event(FORM_EVENT)["requestContext"]["timeEpoch"] / 1000, UTC)
PROGRAMME = load_programme(EVENTS / "programme.sample.json", NOW)
PAST = PROGRAMME[0].model_copy(
    update={"session_id": "kbs-00-past", "start": NOW - timedelta(days=14)}
)
CANCELLED = PROGRAMME[1].model_copy(
    update={"session_id": "kbs-08-cancelled", "status": SessionStatus.CANCELLED}
)
OPEN_IDS = [s.session_id for s in PROGRAMME]


@dataclass(frozen=True)
class LambdaContext:
    function_name: str = "kbs-api"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:kbs-api"
    aws_request_id: str = "5b1c2d3e-0000-4000-8000-000000000001"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        assert self.headers["Content-Type"] == "application/json"
        return json.loads(self.body)


def call(event: dict[str, Any]) -> Reply:
    response = handler(event, LambdaContext())
    return Reply(response["statusCode"], response["headers"], response["body"])


class Capture:
    """Every event our sources put on the bus, via a rule with an SQS target."""

    def __init__(self) -> None:
        sqs, events = clients.client("sqs"), clients.client("events")
        self.url = sqs.create_queue(QueueName="captured-events")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])
        events.put_rule(
            Name="capture",
            EventBusName=BUS_NAME,
            EventPattern=json.dumps({"source": [SOURCE_REGISTRATIONS, SOURCE_SESSIONS]}),
        )
        events.put_targets(
            Rule="capture",
            EventBusName=BUS_NAME,
            Targets=[{"Id": "queue", "Arn": arn["Attributes"]["QueueArn"]}],
        )

    def events(self) -> list[dict[str, Any]]:
        """Events delivered since the last call."""
        received = []
        while True:
            batch = clients.client("sqs").receive_message(QueueUrl=self.url, MaxNumberOfMessages=10)
            messages = batch.get("Messages", [])
            if not messages:
                return received
            for message in messages:
                received.append(json.loads(message["Body"]))
                clients.client("sqs").delete_message(
                    QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"]
                )


@pytest.fixture
def captured(aws: None) -> Capture:
    return Capture()


@pytest.fixture
def programme(aws: None) -> None:
    """The sample programme as of the sample events' time, one past and one cancelled session."""
    for session in [*PROGRAMME, PAST, CANCELLED]:
        repository.put_session(TABLE_NAME, session)


@pytest.fixture
def api(programme: None, captured: Capture) -> Iterator[Capture]:
    yield captured


def form_fields() -> list[tuple[str, str]]:
    body = load_event(FORM_EVENT)["body"]
    return parse_qsl(base64.b64decode(body).decode(), keep_blank_values=True)


def form_post(
    body: bytes | str | None = None,
    *,
    content_type: str = forms.FORM_CONTENT_TYPE,
    accept: str = "application/json",
    **changes: str | None,
) -> dict[str, Any]:
    """The browser form sample; other fields (``None`` drops one) or another raw body."""
    event = load_event(FORM_EVENT)
    if body is None:
        fields = [(k, v) for k, v in form_fields() if k not in changes]
        fields += [(k, v) for k, v in changes.items() if v is not None]
        body = urlencode(fields).encode()
    if isinstance(body, bytes):
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    else:
        event["body"], event["isBase64Encoded"] = body, False
    event["headers"].update({"content-type": content_type, "accept": accept})
    return event


def json_post(**changes: Any) -> dict[str, Any]:
    event = load_event(JSON_EVENT)
    document = {**json.loads(event["body"]), **changes}
    event["body"] = json.dumps({k: v for k, v in document.items() if v is not None})
    return event


# --- GET ---------------------------------------------------------------------------------


def test_get_sessions_lists_open_sessions_with_places_left_and_never_join_links(
    api: Capture,
) -> None:
    repository.table(TABLE_NAME).update_item(
        Key={"PK": "SESSION#kbs-07-monitoring", "SK": "META"},
        UpdateExpression="SET confirmed = :n",
        ExpressionAttributeValues={":n": 10},
    )

    reply = call(load_event("api/get-sessions.json"))

    assert reply.status == 200
    sessions = reply.json()
    assert [s["session_id"] for s in sessions] == OPEN_IDS
    assert "join_url" not in reply.body and "meet.example.org" not in reply.body
    places = {s["session_id"]: s["places_left"] for s in sessions}
    assert places["kbs-01-ict-hardware"] == 300 and places["kbs-07-monitoring"] == 0
    first = sessions[0]
    assert first["start"] == PROGRAMME[0].start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert first | {"start": None, "places_left": None} == {
        "session_id": "kbs-01-ict-hardware",
        "title": PROGRAMME[0].title,
        "kind": "webinar",
        "category": "ICT hardware",
        "description": "",
        "speakers": [],
        "start": None,
        "timezone": "Europe/Brussels",
        "duration_minutes": 90,
        "status": "open",
        "capacity": 300,
        "places_left": None,
    }


def test_get_page_renders_the_form_with_the_open_sessions(api: Capture) -> None:
    reply = call(load_event("api/get-page.json"))

    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    page = reply.body
    boxes = re.findall(r'<input type="checkbox" name="sessions" value="([^"]+)"', page)
    assert boxes == ["all", *OPEN_IDS]
    for field in ("full_name", "email", "organisation", "country", "role", "timezone"):
        assert f'<label for="{field}">' in page and f'id="{field}"' in page
    assert '<form id="registration" method="post" action="registrations?lang=en"' in page
    assert "meet.example.org" not in page
    assert "Tuesday 1 December 2026, 10:00 CET (Europe/Brussels)" in page
    assert f"privacy notice version {intake.CONSENT_TEXT_VERSION}" in page
    policy = reply.headers["Content-Security-Policy"]
    assert re.search(r"script-src 'sha256-[A-Za-z0-9+/]+=*'", policy)
    assert "unsafe-inline" not in policy


# --- POST: accepted ----------------------------------------------------------------------


def test_a_browser_form_post_is_published_once_and_acknowledged(api: Capture) -> None:
    event = form_post()

    reply = call(event)

    assert reply.status == 202
    body = reply.json()
    assert body["status"] == "received"
    assert body["sessions"] == ["kbs-01-ict-hardware", "kbs-03-textiles"]
    [published] = api.events()
    assert published["source"] == SOURCE_REGISTRATIONS
    assert published["detail-type"] == REGISTRATION_SUBMITTED
    metadata, data = published["detail"]["metadata"], published["detail"]["data"]
    assert metadata["idempotency_key"] == body["reference"] == data["reference"]
    assert metadata["correlation_id"] == event["requestContext"]["requestId"]
    assert data == {
        "reference": body["reference"],
        "full_name": "Zoë Åkesson",
        "email": "zoe.akesson@upphandling.example.se",
        "organisation": "Region Östergötland \N{EN DASH} Upphandling",
        "country": "SE",
        "role": "Category manager, ICT",
        "language": "sv",
        "timezone": "Europe/Stockholm",
        "sessions": ["kbs-01-ict-hardware", "kbs-03-textiles"],
        "consent": {"given_at": "2026-11-24T10:15:42.318000Z", "text_version": "2026-11"},
        "submitted_at": "2026-11-24T10:15:42.318000Z",
    }


def test_a_json_post_for_all_sessions_is_published_once(api: Capture) -> None:
    reply = call(load_event(JSON_EVENT))

    assert reply.status == 202
    assert reply.json()["sessions"] == OPEN_IDS
    [published] = api.events()
    data = published["detail"]["data"]
    assert data["sessions"] == OPEN_IDS  # neither the past nor the cancelled session
    assert data["email"] == "JL.Dubois@achats.example.fr"
    assert data["country"] == "FR"


@pytest.mark.parametrize(
    ("language", "query", "accept_language", "expected"),
    [
        (None, "pl", None, "pl"),  # no language field: the page language
        ("", "pl", None, "pl"),  # left empty: the same
        ("de", "pl", None, "de"),  # an explicit choice wins
        (None, None, "nl-BE,nl;q=0.9", "nl"),  # no ?lang=: the negotiated Accept-Language
        (None, None, "en-GB,en;q=0.9,sv;q=0.8", "en"),
    ],
)
def test_a_json_post_without_a_language_gets_the_page_language(
    api: Capture, language: str | None, query: str | None, accept_language: str, expected: str
) -> None:
    event = json_post(language=language)
    if query:
        event["rawQueryString"], event["queryStringParameters"] = f"lang={query}", {"lang": query}
    if accept_language:
        event["headers"]["accept-language"] = accept_language

    reply = call(event)

    assert reply.status == 202
    [published] = api.events()
    assert published["detail"]["data"]["language"] == expected


def test_a_browser_post_preferring_html_gets_a_confirmation_page(api: Capture) -> None:
    reply = call(load_event(FORM_EVENT))

    assert reply.status == 202
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    [published] = api.events()
    reference = published["detail"]["data"]["reference"]
    assert f"Your reference is <strong>{reference}</strong>" in reply.body
    assert PROGRAMME[0].title in reply.body and "Zoë" not in reply.body
    assert "style-src 'sha256-" in reply.headers["Content-Security-Policy"]


def test_each_post_gets_its_own_reference(api: Capture) -> None:
    first, second = call(form_post()).json(), call(form_post()).json()

    assert first["reference"] != second["reference"]
    assert len(api.events()) == 2


# --- POST: refused, nothing published -----------------------------------------------------

BAD_POSTS: list[tuple[str, dict[str, Any], int, str]] = [
    ("missing full_name", form_post(full_name=None), 400, "full_name"),
    ("missing email", form_post(email=None), 400, "email"),
    ("missing organisation", form_post(organisation=None), 400, "organisation"),
    ("missing country", form_post(country=None), 400, "country"),
    ("missing sessions", form_post(sessions=None), 400, "sessions"),
    ("missing consent", form_post(consent=None), 400, "consent"),
    ("consent refused", form_post(consent="off"), 400, "consent"),
    ("oversized full_name", form_post(full_name="Zoë " * 40), 400, "full_name"),
    ("oversized organisation", form_post(organisation="x" * 5000), 400, "organisation"),
    ("bad email", form_post(email="zoe.akesson(at)example.se"), 400, "email"),
    ("email without domain dot", form_post(email="zoe@localhost"), 400, "email"),
    ("unknown session", form_post(sessions="kbs-99-nope"), 400, "sessions"),
    ("past session", form_post(sessions=PAST.session_id), 400, "sessions"),
    ("cancelled session", form_post(sessions=CANCELLED.session_id), 400, "sessions"),
    ("empty sessions", form_post(sessions=""), 400, "sessions"),
    ("honeypot filled", form_post(website="https://cheap-pills.example"), 400, "website"),
    ("script in name", form_post(full_name="<script>alert(1)</script>"), 400, "full_name"),
    (
        "CR/LF in a field",
        form_post(organisation="ACME\r\nBcc: all@example.org"),
        400,
        "organisation",
    ),
    ("NUL in a field", form_post(role="chief\x00buyer"), 400, "role"),
    ("bad country", form_post(country="XX"), 400, "country"),
    (
        "encoded-word name",
        form_post(full_name="=?utf-8?q?Eve=0D=0ABcc=3A_x=40evil.example?="),
        400,
        "full_name",
    ),
    (
        "link as a name",
        form_post(full_name="Your refund is ready: https://refund.example.net/claim"),
        400,
        "full_name",
    ),
    ("link as an organisation", form_post(organisation="www.refund.example"), 400, "organisation"),
    ("bad language", form_post(language="klingon-language"), 400, "language"),
    ("repeated email", form_post(b"email=a@b.co&email=c@d.co"), 400, "email"),
    ("invalid UTF-8", form_post(b"full_name=Zo\xeb&email=x"), 400, "body"),
    ("invalid percent-encoded UTF-8", form_post(b"full_name=Zo%EB"), 400, "body"),
    ("invalid base64", {**form_post(), "body": "%%%not-base64%%%"}, 400, "body"),
    ("1 MB body", form_post(b"full_name=" + b"x" * 1_000_000), 413, "body"),
    ("just over 16 KiB", form_post(b"a" * (16 * 1024 + 1)), 413, "body"),
    ("wrong content type", form_post("hello", content_type="text/plain"), 415, "content_type"),
    ("no content type", form_post(content_type=""), 415, "content_type"),
    ("JSON array body", form_post("[]", content_type="application/json"), 400, "body"),
    ("JSON syntax error", form_post("{'a': 1}", content_type="application/json"), 400, "body"),
    ("JSON name is a number", json_post(full_name=12345), 400, "full_name"),
    ("JSON sessions is an object", json_post(sessions={"all": True}), 400, "sessions"),
    ("JSON empty sessions", json_post(sessions=[]), 400, "sessions"),
    ("JSON consent false", json_post(consent=False), 400, "consent"),
    (
        "JSON email twice",
        form_post('{"email":"a@b.co","email":"c@d.co"}', content_type="application/json"),
        400,
        "email",
    ),
]


@pytest.mark.parametrize(
    ("event", "status", "field"),
    [pytest.param(event, status, field, id=name) for name, event, status, field in BAD_POSTS],
)
def test_a_bad_post_is_refused_per_field_and_nothing_is_published(
    api: Capture, event: dict[str, Any], status: int, field: str
) -> None:
    reply = call(event)

    assert reply.status == status
    errors = reply.json()["errors"]
    assert field in errors
    label = intake.LABELS.get(field, field.replace("_", " ")).lower()
    message = errors[field]
    assert message.endswith(".")
    assert label.split()[0] in message.lower() or message == intake.REQUIRED_MESSAGES[field]
    assert api.events() == []


def test_a_bad_browser_post_gets_an_html_page_linking_to_the_fields(api: Capture) -> None:
    event = form_post(accept=load_event(FORM_EVENT)["headers"]["accept"], email=None, country="XX")

    reply = call(event)

    assert reply.status == 400
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<a href="./#email">Enter your email address.</a>' in reply.body
    assert '<a href="./#country">Country must be an ISO 3166-1' in reply.body
    assert api.events() == []


def test_hostile_text_in_an_html_error_page_is_escaped(api: Capture) -> None:
    event = form_post(accept="text/html", sessions='"><script>alert(1)</script>')

    reply = call(event)

    assert reply.status == 400
    assert "<script>alert" not in reply.body
    assert "one of your choices is not in the programme" in reply.body


# --- POST: the bus or the table is unavailable ---------------------------------------------


def test_put_events_failing_is_a_503_asking_to_retry_and_nothing_is_reported_received(
    api: Capture,
) -> None:
    # botocore Stubber on the events client only: moto has no way to make PutEvents
    # return FailedEntryCount; DynamoDB (a different client) stays on moto.
    events = clients.client("events")
    failure = {
        "FailedEntryCount": 1,
        "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}],
    }
    with Stubber(events) as stub:
        for _ in range(MAX_ATTEMPTS):
            stub.add_response("put_events", failure)
        reply = call(form_post())
        stub.assert_no_pending_responses()

    assert reply.status == 503
    assert reply.headers["Retry-After"] == "30"
    body = reply.json()
    assert "try again" in body["message"] and "nothing was recorded" in body["message"]
    assert "reference" not in body
    assert api.events() == []


def test_put_events_raising_is_a_503_page_for_a_browser(api: Capture) -> None:
    with Stubber(clients.client("events")) as stub:
        stub.add_client_error("put_events", "ThrottlingException", http_status_code=400)
        reply = call(load_event(FORM_EVENT))

    assert reply.status == 503
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Please try again" in reply.body
    assert api.events() == []


def test_a_missing_table_is_a_503_not_a_500(captured: Capture) -> None:
    clients.client("dynamodb").delete_table(TableName=TABLE_NAME)

    assert call(load_event("api/get-sessions.json")).status == 503
    assert call(form_post()).status == 503
    assert captured.events() == []


# --- content negotiation and fuzzing -------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (load_event(FORM_EVENT)["headers"]["accept"], True),
        ("text/html", True),
        ("application/json", False),
        ("*/*", False),
        (None, False),
        ("application/json, text/html;q=0.9", False),
        ("text/html;q=0.5, application/json;q=0.4", True),
        ("text/html;q=bogus, */*", False),
    ],
)
def test_html_is_chosen_only_when_the_client_prefers_it(accept: str | None, html: bool) -> None:
    assert prefers_html(accept) is html


FUZZ_FIELDS = st.sampled_from([*intake.LABELS, "x"])
FUZZ_TEXT = st.one_of(
    st.text(max_size=200),
    st.sampled_from(["on", "SE", "a@b.co", "all", *OPEN_IDS, PAST.session_id]),
)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """The sample form with random fields changed, or an arbitrary body, any content type."""
    if draw(st.booleans()):
        changes = draw(st.dictionaries(FUZZ_FIELDS, st.none() | FUZZ_TEXT, max_size=4))
        event = form_post(**changes)
    else:
        raw = draw(st.binary(max_size=3000))
        event = form_post(raw if draw(st.booleans()) else raw.decode("utf-8", "replace"))
    event["headers"]["content-type"] = draw(
        st.sampled_from([forms.FORM_CONTENT_TYPE, forms.JSON_CONTENT_TYPE]) | st.text(max_size=40)
    )
    event["headers"]["accept"] = draw(st.sampled_from(["application/json", "text/html"]))
    return event


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(event=requests())
def test_arbitrary_requests_get_a_2xx_or_4xx_and_each_accepted_one_is_booked_once(
    api: Capture, event: dict[str, Any]
) -> None:
    reply = call(event)

    assert reply.status == 202 or 400 <= reply.status < 500
    published = api.events()
    assert len(published) == (1 if reply.status == 202 else 0)
    if published:  # delivered twice (at least once): each booking made and emailed once
        submitted = published[0] | {"account": DEFAULT_ACCOUNT_ID}  # moto drops it on SQS
        address = submitted["detail"]["data"]["email"]
        before = store.registrant_registrations(TABLE_NAME, address)
        sent_before = len(_emails_to(address))
        assert processor(sqs_batch(submitted), Context())["batchItemFailures"] == []
        sent_first = len(_emails_to(address))
        assert processor(sqs_batch(submitted), Context())["batchItemFailures"] == []
        assert len(_emails_to(address)) == sent_first  # the replay sends nothing
        held = store.registrant_registrations(TABLE_NAME, address)
        assert held and len({r.session_id for r in held}) == len(held)
        # One email for the new bookings of a submission, however many sessions; each place
        # already held is told again in its own email, at most once an hour.
        assert (len(held) > len(before)) <= sent_first - sent_before <= 1 + len(before)
        texts = " ".join(str(m.get_body(("plain",)).get_content()) for m in _emails_to(address))
        assert all(r.reference in texts for r in held)
        # one "Registration Confirmed/Waitlisted" per new booking, none for the replay
        assert len(api.events()) == len(held) - len(before)


def _emails_to(address: str) -> list[EmailMessage]:
    return [m for m in sent_emails() if m["To"].addresses[0].addr_spec.lower() == address.lower()]
