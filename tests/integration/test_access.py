"""Access on moto, through the real handlers: what public routes give away, and key rotation.

Public routes show no join link and nobody else's data; without a valid token, every declared
route (whichever function serves it, present or future) answers without either, never 500.
Links keep working across a rotation of the signing key until the old key is removed.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from functions.api.handler import handler as api
from infra.wiring import FUNCTIONS, HttpRoute
from shared.platform import clients, secrets
from shared.platform.settings import get_settings
from shared.registrations import booking
from shared.web import links
from tests.integration.test_self_service import (
    ASKED_AT,
    BOOKED_AT,
    FIRST,
    FOURTH,
    GET_SAMPLE,
    JSON,
    SECOND,
    SESSION_ID,
    SUBMISSION,
    THIRD,
    Bus,
    call,
    emails_to,
    full,  # noqa: F401 - fixture
    link_token,
    request,
    session,  # noqa: F401 - fixture
    snapshot,
)
from tests.support import Context, handler_of

JOIN_HOST = "meet.example.org"  # every session's join link is on it
PEOPLE = (FIRST, SECOND, THIRD, FOURTH)
OLD_KEY, NEW_KEY = "old-key-0123456789abcdef", "new-key-fedcba9876543210"


def answer(handler: Any, event: dict[str, Any]) -> tuple[int, str]:
    response = handler(event, Context())
    return int(response["statusCode"]), str(response.get("body", ""))


def route_event(route: HttpRoute, *, token: str | None, accept: str) -> dict[str, Any]:
    """The GET sample turned into a request on ``route`` (path parameters filled in)."""
    event = copy.deepcopy(GET_SAMPLE)
    params = {name: SESSION_ID for name in re.findall(r"{(\w+)}", route.path)}
    path = route.path.format(**params)
    query = {} if token is None else {"token": token}
    event.update(
        routeKey=route.route_key,
        rawPath=path,
        rawQueryString="&".join(f"{k}={v}" for k, v in query.items()),
        queryStringParameters=query,
        pathParameters=params,
    )
    event["requestContext"].update(routeKey=route.route_key)
    event["requestContext"]["http"].update(method=route.method, path=path)
    event["requestContext"]["timeEpoch"] = int(ASKED_AT.timestamp() * 1000)
    event["headers"]["accept"] = accept
    if not params:
        del event["pathParameters"]
    if not query:
        del event["queryStringParameters"]
    return event


def assert_nothing_personal(body: str, *, owner: str | None = None) -> None:
    assert JOIN_HOST not in body, "a join link"
    for email in PEOPLE:
        if email != owner:
            assert email not in body, f"{email}'s address"
    if owner is None:
        assert SUBMISSION.full_name not in body and SUBMISSION.organisation not in body


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_the_programme_the_page_and_registration_answers_show_no_join_link_or_anyone(
    full: Bus,  # noqa: F811 - fixture
    accept: str,
) -> None:
    page = copy.deepcopy(GET_SAMPLE) | {"routeKey": "GET /", "rawPath": "/"}
    page["requestContext"]["http"]["path"] = "/"
    page["headers"]["accept"] = accept
    programme = route_event(HttpRoute("GET", "/sessions"), token=None, accept=accept)
    post = route_event(HttpRoute("POST", "/registrations"), token=None, accept=accept)
    post["headers"]["content-type"] = "application/json"
    post["body"] = json.dumps(
        {**json.loads(SUBMISSION.model_dump_json()), "sessions": [SESSION_ID], "consent": True}
        | {"email": "someone.new@example.org", "full_name": "Someone New", "website": ""}
    )
    twice = copy.deepcopy(post) | {"body": post["body"].replace("someone.new", FIRST[:-12])}

    replies = [answer(api, e) for e in (page, programme, post, twice)]

    statuses = [status for status, _ in replies]
    assert statuses[:2] == [200, 200] and statuses[2:] == [202, 202], statuses
    assert SESSION_ID in replies[1][1]
    for _, body in replies:
        assert_nothing_personal(body, owner=FIRST)  # FIRST posting again learns nothing new


def test_the_cancel_page_shows_the_link_holder_their_booking_only(
    full: Bus,  # noqa: F811 - fixture
) -> None:
    token = link_token(emails_to(FIRST)[0])

    html, data = call(request("GET", token)), call(request("GET", token, headers=JSON))

    assert (html.status, data.status) == (200, 200)
    for body in (html.body, data.body):
        assert_nothing_personal(body, owner=FIRST)


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
@pytest.mark.parametrize(
    "route",
    [route for fn in FUNCTIONS for route in fn.of_kind(HttpRoute)],
    ids=lambda route: route.route_key,
)
def test_no_declared_route_gives_a_join_link_or_personal_data_for_a_missing_or_forged_token(
    full: Bus,  # noqa: F811 - fixture
    route: HttpRoute,
    accept: str,
) -> None:
    (fn,) = [fn for fn in FUNCTIONS if route in fn.triggers]
    genuine = link_token(emails_to(SECOND)[0])
    forged = genuine[:-4] + ("AAAA" if not genuine.endswith("AAAA") else "BBBB")
    before = snapshot()

    for token in (None, forged, "not-a-token"):
        status, body = answer(handler_of(fn), route_event(route, token=token, accept=accept))
        assert status < 500, (route.route_key, token, status)
        assert_nothing_personal(body)
    assert snapshot() == before


# --- key rotation ---------------------------------------------------------------------------


@pytest.fixture
def key_in_secrets_manager(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The signing key read from Secrets Manager, as deployed (not from the environment)."""
    name = "kbs-test-link-secret"
    clients.client("secretsmanager").create_secret(Name=name, SecretString=OLD_KEY)
    monkeypatch.setenv("KBS_LINK_SECRET_NAME", name)
    monkeypatch.delenv("KBS_LINK_SECRET")
    get_settings.cache_clear()
    secrets.clear_cache()
    yield name
    secrets.clear_cache()
    get_settings.cache_clear()


def rotate(name: str, *keys: str) -> None:
    """Store the keys (current first) and let the functions' key cache lapse."""
    clients.client("secretsmanager").put_secret_value(SecretId=name, SecretString=json.dumps(keys))
    secrets.clear_cache()  # after secrets.CACHE_SECONDS a warm function reads the secret again


def book(email: str, n: int) -> str:
    """Book ``email`` through the real booking code; the token of its emailed cancel link."""
    submission = SUBMISSION.model_copy(
        update={"email": email, "reference": f"KBS-ROT-000{n}", "sessions": [SESSION_ID]}
    )
    booking.process_submission(submission, now=BOOKED_AT, settings=get_settings())
    (message,) = emails_to(email)
    return link_token(message)


def test_links_survive_a_key_rotation_until_the_old_key_is_removed(
    session: Any,  # noqa: F811 - fixture
    key_in_secrets_manager: str,
) -> None:
    old_link = book(FIRST, 1)
    rotate(key_in_secrets_manager, NEW_KEY, OLD_KEY)
    new_link = book(SECOND, 2)

    during = [call(request("GET", t, headers=JSON)).status for t in (old_link, new_link)]
    rotate(key_in_secrets_manager, NEW_KEY)
    before = snapshot()
    after = [call(request("GET", t, headers=JSON)) for t in (old_link, new_link)]
    refused = call(request("POST", old_link, headers=JSON))

    assert during == [200, 200]
    verify = {"purpose": links.CANCEL, "now": ASKED_AT}
    assert links.verify(new_link, [NEW_KEY.encode()], **verify), "new links use the new key"
    with pytest.raises(links.InvalidLinkError):
        links.verify(new_link, [OLD_KEY.encode()], **verify)
    assert [r.status for r in after] == [403, 200]
    assert after[0].json()["status"] == "invalid_link"
    assert refused.status == 403 and snapshot() == before
    assert call(request("POST", new_link, headers=JSON)).status == 200
