"""Who can reach what: only the public and token-protected routes listed here are on the HTTP
API, which is throttled; organisers act with IAM credentials (boto3), never through it.

A new route fails :func:`test_every_route_is_a_listed_public_or_token_protected_route` until
it is listed below with what protects it: an organiser action must not become a public route.
"""

from __future__ import annotations

import pytest

from infra import wiring
from infra.constructs.http_api import THROTTLE
from shared.web import forms
from tests.infra.cfn import Synth, ref

pytestmark = pytest.mark.xdist_group("synth")

PUBLIC = {
    "GET /": "the registration page",
    "GET /certificates/{number}": "verification by a number of 80 random bits; no listing",
    "GET /sessions": "the open programme, without join links",
    "GET /sessions.ics": "the programme as a calendar feed, without join links",
    "POST /registrations": "the registration form (honeypot, validation, 16 KiB body limit)",
}
TOKEN_PROTECTED = {
    "GET /calendar/{token}": "signed personal calendar feed link",
    "GET /registrations/cancel": "signed cancel link (shows, changes nothing)",
    "POST /registrations/cancel": "signed cancel link",
    "GET /materials/{material_id}": "signed materials link",
    "GET /sessions/{session_id}/materials": "signed materials link",
    "GET /unsubscribe": "signed unsubscribe link (shows, changes nothing)",
    "POST /unsubscribe": "signed unsubscribe link (RFC 8058 one-click)",
    "GET /privacy": "signed privacy link (shows, changes nothing)",
    "POST /privacy/export": "signed privacy link",
    "POST /privacy/erase": "signed privacy link",
    "GET /certificates/{number}/download": "signed certificate link (the holder's)",
    "GET /record": "signed record link (shows, changes nothing)",
    "GET /record/transcript": "signed record link (issues a transcript of the record)",
}
EXERCISER_ROUTES = {"GET /exerciser"}  # tests/infra/conftest.py, test-only


def test_every_route_is_a_listed_public_or_token_protected_route(synth: Synth) -> None:
    allowed = set(PUBLIC) | set(TOKEN_PROTECTED) | EXERCISER_ROUTES
    declared = {r.route_key for fn in synth.functions for r in fn.of_kind(wiring.HttpRoute)}
    deployed = {
        route["Properties"]["RouteKey"]
        for route in synth.of_type("AWS::ApiGatewayV2::Route").values()
    }
    assert deployed == declared
    assert declared <= allowed, f"unlisted routes: {sorted(declared - allowed)}"
    assert "$default" not in deployed, "a catch-all route would expose every integration"


def test_functions_are_invoked_only_by_their_routes_queues_and_schedules(synth: Synth) -> None:
    """No function URL, and no invoke permission but API Gateway's and EventBridge's."""
    assert synth.of_type("AWS::Lambda::Url") == {}
    for permission_id, permission in synth.of_type("AWS::Lambda::Permission").items():
        props = permission["Properties"]
        assert props["Action"] == "lambda:InvokeFunction", permission_id
        assert props["Principal"] in {"apigateway.amazonaws.com", "events.amazonaws.com"}
        assert "SourceArn" in props, f"{permission_id}: any API or rule could invoke it"
    for route in synth.of_type("AWS::ApiGatewayV2::Route").values():
        assert route["Properties"].get("AuthorizationType", "NONE") == "NONE"


def test_http_api_is_throttled_and_bodies_are_bounded(declared: Synth) -> None:
    """Stage throttling is set; the body limit (HTTP APIs cap payloads at 10 MB, not lower) is
    the intake's, answered 413 before any parsing (tests/unit/test_intake.py)."""
    (stage,) = declared.of_type("AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["DefaultRouteSettings"]
    assert 0 < settings["ThrottlingRateLimit"] == THROTTLE.rate_limit <= 100
    assert 0 < settings["ThrottlingBurstLimit"] == THROTTLE.burst_limit <= 200
    assert ref(stage["Properties"]["ApiId"]) in declared.of_type("AWS::ApiGatewayV2::Api")
    assert forms.MAX_BODY_BYTES <= 64 * 1024
