"""The public HTTP API: one route per declared ``HttpRoute``, to its function."""

from __future__ import annotations

import json
from collections.abc import Iterable

import jsii
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import wiring
from infra.constructs.nag import acknowledge
from infra.constructs.names import construct_id
from infra.constructs.service_function import LOG_RETENTION, ServiceFunction

# Whole-stage limits: a registration form for a few thousand public buyers.
THROTTLE = apigwv2.ThrottleSettings(rate_limit=50, burst_limit=100)

# JSON access log without source IP or user agent: no personal data in logs.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "requestTime": "$context.requestTimeEpoch",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "latency": "$context.responseLatency",
        "integrationLatency": "$context.integrationLatency",
        "integrationError": "$context.integrationErrorMessage",
    }
)


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """``IAccessLogSettings`` is a jsii interface: Python must implement it, a dict won't do."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return apigateway.AccessLogFormat.custom(ACCESS_LOG_FORMAT)


class PublicHttpApi(Construct):
    """HTTP API (payload format 2.0), ``$default`` stage with throttling and JSON access logs."""

    def __init__(
        self, scope: Construct, construct_id_: str, *, functions: Iterable[ServiceFunction]
    ) -> None:
        super().__init__(scope, construct_id_)
        self.api = apigwv2.HttpApi(
            self, "Api", description="kbs public API", create_default_stage=False
        )
        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=LOG_RETENTION)
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=THROTTLE,
            access_log_settings=_AccessLogSettings(self.access_logs),
        )
        for fn in functions:
            routes = fn.spec.of_kind(wiring.HttpRoute)
            if routes:
                self._add_routes(fn, routes)

    @property
    def url(self) -> str:
        return self.stage.url

    def _add_routes(self, fn: ServiceFunction, routes: list[wiring.HttpRoute]) -> None:
        integration = integrations.HttpLambdaIntegration(
            construct_id(fn.spec.name, "integration"),
            fn.function,
            payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
        )
        for route in routes:
            http_route = apigwv2.HttpRoute(
                self,
                construct_id("route", route.route_key),
                http_api=self.api,
                route_key=apigwv2.HttpRouteKey.with_(route.path, apigwv2.HttpMethod(route.method)),
                integration=integration,
            )
            acknowledge(
                http_route,
                "AwsSolutions-APIG4",
                "Public by design: the programme and the registration form for anonymous "
                "public buyers. Abuse is bounded by stage throttling, a honeypot field and "
                "validation; organisers use IAM (boto3), not this API.",
            )
