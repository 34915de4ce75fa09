"""Downloads on moto: the HTTP samples in (``events/api/get-*material*.json``), the declared
handler, real signed tokens; a material recorded by the real material processor."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pytest
import requests

from infra.wiring import function
from kbs import sample_files
from shared.materials import library
from shared.platform.clients import table
from shared.platform.settings import get_settings
from shared.programme.catalogue import load_programme
from shared.programme.repository import put_session
from shared.registrations import store
from shared.registrations.models import Consent, Registration, RegistrationStatus
from shared.web import links
from tests.conftest import BUCKET_NAME, EVENTS, LINK_SECRET, TABLE_NAME, load_event
from tests.integration.test_uploads import deliver, put
from tests.support import Context, handler_of

SESSION, OTHER = "kbs-01-ict-hardware", "kbs-02-solar-pv"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
KEY = LINK_SECRET.encode()
FILE = "Risk mapping \N{EN DASH} ICT hardware.pdf"
BODY = sample_files.pdf("Risk mapping")


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: str


def person(
    n: int, session_id: str = SESSION, status: RegistrationStatus = RegistrationStatus.CONFIRMED
) -> Registration:
    return Registration(
        session_id=session_id,
        email=f"buyer.{n}@authority.example.eu",
        reference=f"KBS-{n:04d}-DOWN",
        full_name=f"Buyer {n}",
        organisation="Council (test)",
        country="IE",
        status=status,
        registered_at=NOW - timedelta(days=3),
        consent=Consent(given_at=NOW - timedelta(days=3), text_version="2026-11"),
    )


MEMBER, STRANGER, LEFT, WAITING = (
    person(1),
    person(2, OTHER),
    person(3, status=RegistrationStatus.CANCELLED),
    person(4, status=RegistrationStatus.WAITLISTED),
)


@pytest.fixture
def material(aws: None) -> library.MaterialRecord:
    """The sample programme, four registrants, and one PDF recorded for the session."""
    for session in load_programme(EVENTS / "programme.sample.json", NOW - timedelta(days=3)):
        put_session(TABLE_NAME, session)
    with table(TABLE_NAME).batch_writer() as writer:
        for registration in (MEMBER, STRANGER, LEFT, WAITING):
            writer.put_item(Item=store.registration_item(registration))
    deliver(put(f"sessions/{SESSION}/slides/{FILE}", BODY))
    (record,) = library.session_materials(TABLE_NAME, SESSION)
    return record


def token(registration: Registration, expires_at: datetime = NOW + timedelta(days=30)) -> str:
    return links.materials_token(
        reference=registration.reference,
        session_id=registration.session_id,
        email=registration.email,
        expires_at=expires_at,
        key=KEY,
    )


def get(
    sample: str, path_parameter: str, token: str | None, accept: str = "application/json"
) -> Reply:
    event: dict[str, Any] = copy.deepcopy(load_event(f"api/{sample}.json"))
    (name,) = event["pathParameters"]
    route_path = event["routeKey"].split(" ", 1)[1]
    path = route_path.replace(f"{{{name}}}", path_parameter)
    query = urlencode({"token": token}) if token is not None else ""
    event |= {"rawPath": path, "rawQueryString": query, "pathParameters": {name: path_parameter}}
    event["requestContext"]["http"]["path"] = path
    event["requestContext"]["timeEpoch"] = int(NOW.timestamp() * 1000)
    event["headers"]["accept"] = accept
    event.pop("queryStringParameters", None)
    if token is not None:
        event["queryStringParameters"] = {"token": token}
    result = handler_of(function("downloads"))(event, Context())
    return Reply(result["statusCode"], result.get("headers", {}), result.get("body", ""))


def download(material_id: str, token: str | None, **options: str) -> Reply:
    return get("get-material", material_id, token, **options)


def listing(session_id: str, token: str | None, **options: str) -> Reply:
    return get("get-session-materials", session_id, token, **options)


def test_a_registrant_is_redirected_to_a_short_lived_url_of_the_exact_version(
    material: library.MaterialRecord,
) -> None:
    reply = download(material.material_id, token(MEMBER))

    assert reply.status == 302
    location = urlsplit(reply.headers["Location"])
    query = parse_qs(location.query)
    assert location.netloc.startswith(BUCKET_NAME)
    assert unquote(location.path) == f"/{material.key}"
    assert query["versionId"] == [material.version_id]
    assert query["X-Amz-Expires"] == [str(library.DOWNLOAD_SECONDS)]
    assert query["response-content-type"] == ["application/pdf"]
    assert (
        "filename*=UTF-8''Risk%20mapping%20%E2%80%93%20ICT%20hardware.pdf"
        in query["response-content-disposition"][0]
    )
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["Referrer-Policy"] == "no-referrer"
    fetched = requests.get(reply.headers["Location"], timeout=10)  # moto answers it
    assert fetched.status_code == 200
    assert fetched.content == BODY


def forged(registration: Registration) -> str:
    """A well-formed token for ``registration``, signed with a key that is not ours."""
    payload = token(registration).split(".")[0]
    mac = hmac.new(b"not-our-key-0123456789abcdef", payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def tampered(registration: Registration) -> str:
    """A genuine token whose payload was edited to name another session."""
    payload, signature = token(registration).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["s"] = SESSION
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{edited}.{signature}"


REFUSED = {
    "no token": lambda: None,
    "empty token": lambda: "",
    "garbage": lambda: "not-a-token",
    "forged": lambda: forged(MEMBER),
    "tampered": lambda: tampered(STRANGER),
    "expired": lambda: token(MEMBER, expires_at=NOW - timedelta(seconds=1)),
    "other session's registrant": lambda: token(STRANGER),
    "cancelled registration": lambda: token(LEFT),
    "waitlisted registrant": lambda: token(WAITING),
    "cancel link's token": lambda: links.registrant_url(
        links.CANCEL,
        "https://x",
        reference=MEMBER.reference,
        session_id=SESSION,
        email=MEMBER.email,
        expires_at=NOW + timedelta(days=1),
        key=KEY,
    ).split("token=")[1],
    "unregistered address": lambda: links.materials_token(
        reference=MEMBER.reference,
        session_id=SESSION,
        email="intruder@example.org",
        expires_at=NOW + timedelta(days=1),
        key=KEY,
    ),
}


@pytest.mark.parametrize("make_token", REFUSED.values(), ids=REFUSED.keys())
def test_anyone_else_gets_403_and_no_url(material: library.MaterialRecord, make_token: Any) -> None:
    given = make_token()

    replies = [
        download(material.material_id, given),
        download(material.material_id, given, accept="text/html"),
        listing(SESSION, given),
        listing(SESSION, given, accept="text/html"),
    ]

    for reply in replies:
        assert reply.status == 403
        assert "Location" not in reply.headers
        assert material.material_id not in reply.body and BUCKET_NAME not in reply.body
        assert "X-Amz" not in reply.body


def test_a_withdrawn_material_is_403_and_leaves_the_list(
    material: library.MaterialRecord,
) -> None:
    library.withdraw(TABLE_NAME, material.material_id, NOW)

    assert download(material.material_id, token(MEMBER)).status == 403
    assert json.loads(listing(SESSION, token(MEMBER)).body)["materials"] == []


def test_an_unknown_material_is_403(material: library.MaterialRecord) -> None:
    assert download("aaaaaaaaaaaaaaaaaaaaaaaaaa", token(MEMBER)).status == 403


def test_the_list_shows_the_current_materials_with_links_in_json_or_html(
    material: library.MaterialRecord,
) -> None:
    given = token(MEMBER)

    as_json = listing(SESSION, given)
    as_html = listing(SESSION, given, accept="text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")

    assert as_json.status == as_html.status == 200
    (entry,) = json.loads(as_json.body)["materials"]
    assert entry | {"url": None} == {
        "material_id": material.material_id,
        "title": "Risk mapping \N{EN DASH} ICT hardware",
        "kind": "slides",
        "file_name": FILE,
        "size": len(BODY),
        "content_type": "application/pdf",
        "uploaded_at": material.uploaded_at.isoformat(),
        "url": None,
    }
    assert entry["url"] == links.material_url(
        get_settings().public_base_url, material.material_id, given
    )
    assert as_html.headers["Content-Type"].startswith("text/html")
    assert "Risk mapping \N{EN DASH} ICT hardware" in as_html.body
    assert f"/materials/{material.material_id}?token=" in as_html.body
    assert as_html.headers["Referrer-Policy"] == "no-referrer"


def test_links_in_notices_are_per_registrant(material: library.MaterialRecord) -> None:
    settings = get_settings()
    records = library.current_materials(TABLE_NAME, SESSION)
    other = person(5)

    (mine,) = library.for_registrant(records, MEMBER, settings=settings, now=NOW)
    (theirs,) = library.for_registrant(records, other, settings=settings, now=NOW)

    assert mine.title == f"Slides: Risk mapping \N{EN DASH} ICT hardware (PDF, {len(BODY)} bytes)"
    assert mine.url != theirs.url
    assert (
        download(material.material_id, parse_qs(urlsplit(mine.url).query)["token"][0]).status == 302
    )
