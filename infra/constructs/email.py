"""SES: the configuration set every email is sent with, and the sender identity.

The identity is one of (``infra/settings.py`` reads the context keys):

- a domain (``kbs:senderDomain``): Easy DKIM (three CNAMEs) and a custom MAIL FROM domain
  ``mail.<domain>`` (an MX and an SPF TXT record), so mail passes SPF, DKIM and DMARC;
- an identity that already exists (``kbs:senderIdentityArn``): no resource, grants on it;
- else the sender address alone (local and test synthesis: no DKIM, never for production).
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ses as ses
from constructs import Construct

# Bounces and complaints feed the suppression list; rejects flag content problems.
FEEDBACK_EVENTS = (
    ses.EmailSendingEvent.BOUNCE,
    ses.EmailSendingEvent.COMPLAINT,
    ses.EmailSendingEvent.REJECT,
)


class Email(Construct):
    """TLS required, SES account suppression on, feedback events to the default event bus."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        sender: str,
        domain: str | None = None,
        identity_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.sender = sender
        self.domain = domain
        self.configuration_set = ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            tls_policy=ses.ConfigurationSetTlsPolicy.REQUIRE,
            reputation_metrics=True,
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
        )
        # SES delivers sending events to the default bus only.
        self.configuration_set.add_event_destination(
            "Feedback",
            destination=ses.EventDestination.event_bus(
                events.EventBus.from_event_bus_name(self, "DefaultBus", "default")
            ),
            events=list(FEEDBACK_EVENTS),
        )
        self.identity: ses.EmailIdentity | None = None
        if identity_arn:
            self.identity_arn = identity_arn
            self.identity_name = identity_arn.rsplit("/", 1)[-1]
            return
        self.identity = ses.EmailIdentity(
            self,
            "Sender",
            identity=ses.Identity.domain(domain) if domain else ses.Identity.email(sender),
            configuration_set=self.configuration_set,
            mail_from_domain=mail_from_domain(domain) if domain else None,
            # Mail goes out with the SES domain if the MAIL FROM records are missing.
            mail_from_behavior_on_mx_failure=(
                ses.MailFromBehaviorOnMxFailure.USE_DEFAULT_VALUE if domain else None
            ),
        )
        self.identity_arn = self.identity.email_identity_arn
        self.identity_name = self.identity.email_identity_name

    def grant_send(self, grantee: iam.IGrantable) -> None:
        """``ses:SendEmail``/``ses:SendRawEmail`` as the sender, with the configuration set."""
        stack = Stack.of(self)
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=[
                    self.identity_arn,
                    stack.format_arn(
                        service="ses",
                        resource="configuration-set",
                        resource_name=self.configuration_set.configuration_set_name,
                    ),
                ],
            )
        )


def mail_from_domain(domain: str) -> str:
    """The custom MAIL FROM (bounce) domain: ``mail.<domain>``, under the sender's domain so
    SPF aligns for DMARC."""
    return f"mail.{domain}"
