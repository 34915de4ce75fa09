"""The deployment's context keys (``cdk.json`` or ``cdk deploy -c KEY=VALUE``), checked.

``cdk.json`` keeps ``kbs:stage=dev`` with example addresses for local synthesis and tests; a
production synthesis (``-c kbs:stage=prod``) is refused while any address is an example one
or nobody would hear an alarm (:func:`validate`). The README's "Deploying" lists every key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

STAGE = "kbs:stage"
SENDER_EMAIL = "kbs:senderEmail"
SENDER_DOMAIN = "kbs:senderDomain"
SENDER_IDENTITY_ARN = "kbs:senderIdentityArn"
PUBLIC_BASE_URL = "kbs:publicBaseUrl"
ORGANISER_EMAIL = "kbs:organiserEmail"
ALARM_EMAIL = "kbs:alarmEmail"
MONTHLY_BUDGET = "kbs:monthlyBudget"
PRODUCTION = "prod"

# RFC 2606 / 6761 names that can never receive mail or serve the public.
EXAMPLE_HOST = re.compile(
    r"(^|\.)(example\.(org|com|net)|example|test|invalid|localhost)$", re.IGNORECASE
)


class DeploymentError(ValueError):
    """The context cannot make a working deployment; the message names the keys to set."""


@dataclass(frozen=True)
class Deployment:
    """The context keys the stack reads, as strings (``""``: not set)."""

    stage: str
    sender_email: str
    sender_domain: str
    sender_identity_arn: str
    public_base_url: str
    organiser_email: str
    alarm_email: str
    monthly_budget: str

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> Deployment:
        """From ``node.try_get_context``; the stage defaults to ``dev``."""

        def text(key: str) -> str:
            value = get(key)
            return "" if value is None else str(value).strip()

        return cls(
            stage=text(STAGE) or "dev",
            sender_email=text(SENDER_EMAIL),
            sender_domain=text(SENDER_DOMAIN).lower().rstrip("."),
            sender_identity_arn=text(SENDER_IDENTITY_ARN),
            public_base_url=text(PUBLIC_BASE_URL),
            organiser_email=text(ORGANISER_EMAIL),
            alarm_email=text(ALARM_EMAIL),
            monthly_budget=text(MONTHLY_BUDGET),
        )

    def problems(self) -> list[str]:
        """What is wrong, one sentence per problem naming its context key (``[]``: fine)."""
        found: list[str] = []
        for key, value in (
            (SENDER_EMAIL, self.sender_email),
            (ORGANISER_EMAIL, self.organiser_email),
        ):
            if "@" not in value:
                found.append(f"{key} must be an email address (got {value!r})")
        domain = self.sender_email.rpartition("@")[2].lower()
        if self.sender_domain and domain != self.sender_domain:
            found.append(f"{SENDER_EMAIL} ({self.sender_email}) is not at {SENDER_DOMAIN}")
        if self.sender_domain and self.sender_identity_arn:
            found.append(f"set {SENDER_DOMAIN} or {SENDER_IDENTITY_ARN}, not both")
        if self.sender_identity_arn and ":identity/" not in self.sender_identity_arn:
            found.append(f"{SENDER_IDENTITY_ARN} must be an SES identity ARN (…:identity/NAME)")
        if self.monthly_budget:
            try:
                if float(self.monthly_budget) <= 0:
                    raise ValueError
            except ValueError:
                found.append(f"{MONTHLY_BUDGET} must be a positive amount in USD")
            if not self.alarm_email:
                found.append(f"{MONTHLY_BUDGET} needs {ALARM_EMAIL} to send its alert to")
        if self.stage == PRODUCTION:
            found += self._production_problems()
        return found

    def _production_problems(self) -> list[str]:
        found = []
        hosts = {
            SENDER_EMAIL: self.sender_email.rpartition("@")[2],
            SENDER_DOMAIN: self.sender_domain,
            PUBLIC_BASE_URL: urlsplit(self.public_base_url).hostname or "",
            ORGANISER_EMAIL: self.organiser_email.rpartition("@")[2],
            ALARM_EMAIL: self.alarm_email.rpartition("@")[2],
        }
        for key, host in hosts.items():
            if host and EXAMPLE_HOST.search(host):
                found.append(f"{key} is an example or local name ({host}): set a real one")
        if urlsplit(self.public_base_url).scheme != "https":
            found.append(f"{PUBLIC_BASE_URL} must be an https:// URL")
        if not self.alarm_email:
            found.append(f"{ALARM_EMAIL} is missing: nobody would hear an alarm")
        return found


def validate(get: Callable[[str], Any]) -> Deployment:
    """The deployment the context describes; raises :class:`DeploymentError` listing every
    problem (with the ``-c KEY=VALUE`` keys to set) if it cannot work."""
    deployment = Deployment.from_context(get)
    problems = deployment.problems()
    if problems:
        stage = f" ({STAGE}={deployment.stage})"
        raise DeploymentError(
            f"cannot synthesize this deployment{stage}:\n- "
            + "\n- ".join(problems)
            + "\nSet them in cdk.json or with `cdk deploy -c KEY=VALUE` (README: Deploying)."
        )
    return deployment
