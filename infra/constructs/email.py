"""SES: the configuration set every email is sent with, and the verified sender identity."""

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

    def __init__(self, scope: Construct, construct_id: str, *, sender: str) -> None:
        super().__init__(scope, construct_id)
        self.sender = sender
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
        self.identity = ses.EmailIdentity(
            self,
            "Sender",
            identity=ses.Identity.email(sender),
            configuration_set=self.configuration_set,
        )

    def grant_send(self, grantee: iam.IGrantable) -> None:
        """``ses:SendEmail``/``ses:SendRawEmail`` as the sender, with the configuration set."""
        stack = Stack.of(self)
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=[
                    self.identity.email_identity_arn,
                    stack.format_arn(
                        service="ses",
                        resource="configuration-set",
                        resource_name=self.configuration_set.configuration_set_name,
                    ),
                ],
            )
        )
