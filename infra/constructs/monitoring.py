"""Alarms that reach someone, the series' dashboard, and the monthly cost budget.

Every alarm notifies the topic of :class:`DeadLetterAlarms`; ``kbs:alarmEmail`` subscribes an
address to it (the recipient confirms once: ``kbs doctor`` checks). Derived from the wiring:
each declared function gets an errors and a throttles alarm.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Duration
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.constructs.alarms import DeadLetterAlarms
from infra.constructs.http_api import PublicHttpApi
from infra.constructs.nag import acknowledge
from infra.constructs.names import construct_id
from infra.constructs.service_function import METRICS_NAMESPACE, SERVICE, ServiceFunction

FIVE_MINUTES = Duration.minutes(5)
API_LATENCY_P95_MS = 3000
"""p95 latency of the public API above which someone should look (ms, 3 periods in a row)."""
SES_BOUNCE_RATE = 0.05
"""SES reviews an account at 5 % bounces (and may pause sending at 10 %)."""
SES_COMPLAINT_RATE = 0.001
"""SES reviews an account at 0.1 % complaints (and may pause sending at 0.5 %)."""
BUDGET_ALERT_PERCENT = 80
"""The budget alert fires when actual spend passes this share of ``kbs:monthlyBudget``."""


def ses_metric(name: str, statistic: str = cloudwatch.Stats.SUM) -> cloudwatch.Metric:
    """An account-level SES metric (``Send``, ``Bounce``, ``Reputation.BounceRate``...)."""
    return cloudwatch.Metric(
        namespace="AWS/SES", metric_name=name, statistic=statistic, period=FIVE_MINUTES
    )


def series_metric(name: str) -> cloudwatch.Metric:
    """One of our Powertools metrics (namespace ``KnowledgeBuildingSeries``, ``service`` dim)."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": SERVICE},
        statistic=cloudwatch.Stats.SUM,
        period=FIVE_MINUTES,
    )


class Monitoring(Construct):
    """Alarms on every function, the API and SES reputation; the dashboard; the budget."""

    def __init__(
        self,
        scope: Construct,
        construct_id_: str,
        *,
        alarms: DeadLetterAlarms,
        functions: Iterable[ServiceFunction],
        api: PublicHttpApi,
        alarm_email: str,
        monthly_budget: str = "",
    ) -> None:
        super().__init__(scope, construct_id_)
        self.topic = alarms.topic
        self.action = actions.SnsAction(alarms.topic)
        if alarm_email:
            subscription = alarms.topic.add_subscription(
                subscriptions.EmailSubscription(alarm_email)
            )
            acknowledge(
                subscription,
                "Serverless-SNSRedrivePolicy",
                "An operators' email subscription: SNS retries email delivery itself, and a "
                "dead-letter queue of undelivered alarm emails could only alarm to this topic.",
            )
        functions = list(functions)
        for fn in functions:
            self._alarm(
                f"{fn.spec.name} errors",
                fn.function.metric_errors(period=FIVE_MINUTES, statistic=cloudwatch.Stats.SUM),
                threshold=0,
                description=f"{fn.spec.name} failed: read its log group, then `kbs dlq list`.",
            )
            self._alarm(
                f"{fn.spec.name} throttles",
                fn.function.metric_throttles(period=FIVE_MINUTES, statistic=cloudwatch.Stats.SUM),
                threshold=0,
                description=f"{fn.spec.name} was throttled: the account's concurrency is spent.",
            )
        api_id = {"ApiId": api.api.api_id}
        self._alarm(
            "api 5xx",
            cloudwatch.Metric(
                namespace="AWS/ApiGateway",
                metric_name="5xx",
                dimensions_map=api_id,
                statistic=cloudwatch.Stats.SUM,
                period=FIVE_MINUTES,
            ),
            threshold=0,
            description="The public API answered 5xx: read the functions' logs.",
        )
        self._alarm(
            "api latency",
            cloudwatch.Metric(
                namespace="AWS/ApiGateway",
                metric_name="Latency",
                dimensions_map=api_id,
                statistic=cloudwatch.Stats.percentile(95),
                period=FIVE_MINUTES,
            ),
            threshold=API_LATENCY_P95_MS,
            evaluation_periods=3,
            description="The public API is slow (p95 over 3 s for 15 minutes).",
        )
        self._alarm(
            "ses bounce rate",
            ses_metric("Reputation.BounceRate", cloudwatch.Stats.MAXIMUM),
            threshold=SES_BOUNCE_RATE,
            description="SES bounce rate over 5 %: SES reviews the account; check the lists.",
        )
        self._alarm(
            "ses complaint rate",
            ses_metric("Reputation.ComplaintRate", cloudwatch.Stats.MAXIMUM),
            threshold=SES_COMPLAINT_RATE,
            description="SES complaint rate over 0.1 %: SES reviews the account.",
        )
        self.dashboard = self._dashboard(alarms)
        if monthly_budget:
            self._budget(float(monthly_budget), alarm_email)

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        description: str,
        evaluation_periods: int = 1,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id(name),
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=evaluation_periods,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self.action)
        return alarm

    def _dashboard(self, alarms: DeadLetterAlarms) -> cloudwatch.Dashboard:
        """The series' flow, left to right: registrations in, email out, what failed."""
        dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.days(7))
        dead_letters = [
            watched.queue.metric_approximate_number_of_messages_visible(
                label=watched.name, period=FIVE_MINUTES, statistic=cloudwatch.Stats.MAXIMUM
            )
            for watched in alarms.watched
        ]
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Registrations",
                left=[
                    series_metric("RegistrationsSubmitted"),
                    series_metric("RegistrationsCancelled"),
                    series_metric("RegistrationsPromoted"),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Emails sent, bounced, complained (SES)",
                left=[ses_metric("Send"), ses_metric("Delivery")],
                right=[ses_metric("Bounce"), ses_metric("Complaint")],
                width=12,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Dead letters", left=dead_letters, width=12),
            cloudwatch.GraphWidget(
                title="SES reputation (alarm at 5 % bounces, 0.1 % complaints)",
                left=[
                    ses_metric("Reputation.BounceRate", cloudwatch.Stats.MAXIMUM),
                    ses_metric("Reputation.ComplaintRate", cloudwatch.Stats.MAXIMUM),
                ],
                width=12,
            ),
        )
        return dashboard

    def _budget(self, amount: float, alarm_email: str) -> None:
        budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_type="COST",
                time_unit="MONTHLY",
                # The whole account's spend: deploy kbs in an account of its own (a tag filter
                # would need the tag activated for cost allocation first, or read 0).
                budget_limit=budgets.CfnBudget.SpendProperty(amount=amount, unit="USD"),
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        comparison_operator="GREATER_THAN",
                        notification_type="ACTUAL",
                        threshold=BUDGET_ALERT_PERCENT,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=[
                        budgets.CfnBudget.SubscriberProperty(
                            address=alarm_email, subscription_type="EMAIL"
                        )
                    ],
                )
            ],
        )
