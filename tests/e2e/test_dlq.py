"""End to end on the local stack: a registration that fails for good reaches the dead-letter
queue, ``kbs dlq list`` shows it (without its content), and once the cause is fixed
``kbs dlq redrive`` has it processed, once.

The stack runs the real declaration in this process (``LocalStack``, what ``kbs serve`` runs)
with an immediate redelivery and two receives before the dead-letter queue, so that takes
seconds, not the deployed 5 x 6 minutes; the ``kbs`` commands run as subprocesses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.wiring import FUNCTIONS, function
from kbs.local.delivery import DeliveryPolicy
from kbs.local.server import moto_client
from tests.conftest import EVENTS
from tests.e2e.conftest import StartInProcess
from tests.e2e.support import http, kbs, read_eml, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

POLICY = DeliveryPolicy(visibility_timeout_factor=0, max_receive_count=2)
(RULE,) = [t.name for t in function("registration_processor").triggers]
REGISTRANT = "poisoned.record@authority.example.eu"


@pytest.fixture(scope="module")
def info(in_process: StartInProcess) -> dict[str, Any]:
    return in_process(*FUNCTIONS, delivery=POLICY)


def dead_letters(info: dict[str, Any]) -> int:
    sqs = moto_client("sqs", info["aws_endpoint_url"], info["region"])
    attributes = sqs.get_queue_attributes(
        QueueUrl=info["dead_letter_queues"][RULE], AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_a_poisoned_registration_is_listed_then_redriven_and_confirmed_once(
    info: dict[str, Any],
) -> None:
    data_dir = str(Path(info["outbox"]).parent)
    ses = moto_client("sesv2", info["aws_endpoint_url"], info["region"])
    imported = kbs("sessions", "import", str(EVENTS / "programme.sample.json"), "--local", data_dir)
    assert imported.returncode == 0, imported.stderr
    session = http("GET", f"{info['api_url']}/sessions").json()[0]
    ses.delete_email_identity(EmailIdentity=info["sender_email"])  # the cause: SES refuses

    posted = http(
        "POST",
        f"{info['api_url']}/registrations",
        json.dumps(
            {
                "full_name": "Poisoned Record",
                "email": REGISTRANT,
                "organisation": "Region (test)",
                "country": "SE",
                "sessions": [session["session_id"]],
                "consent": True,
                "website": "",
            }
        ).encode(),
        {"Content-Type": "application/json", "Accept": "application/json"},
    )
    assert posted.status == 202
    wait_for(lambda: dead_letters(info) == 1, timeout=30, what="the dead letter")

    listed = kbs("dlq", "list", "--show", "--local", data_dir)
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert [RULE, "registration_processor", "1"] in [row[:3] for row in rows]
    assert "Registration Submitted" in listed.stdout
    assert REGISTRANT not in listed.stdout and "Poisoned Record" not in listed.stdout

    ses.create_email_identity(  # the fix
        EmailIdentity=info["sender_email"], ConfigurationSetName=info["configuration_set"]
    )
    redriven = kbs("dlq", "redrive", RULE, "--local", data_dir)
    assert redriven.returncode == 0, redriven.stderr
    assert f"{RULE}: 1 message(s) moved back" in redriven.stdout

    outbox = Path(info["outbox"])

    def confirmations() -> list[Path]:
        return [
            p
            for p in outbox.glob("*.eml")
            if read_eml(p)["To"].addresses[0].addr_spec == REGISTRANT
        ]

    (eml,) = wait_for(confirmations, timeout=30, what="the confirmation")
    assert read_eml(eml)["X-KBS-Kind"] == "confirmation"
    again = kbs("dlq", "redrive", "--all", "--local", data_dir)
    assert again.returncode == 0, again.stderr
    assert dead_letters(info) == 0
    assert len(confirmations()) == 1
