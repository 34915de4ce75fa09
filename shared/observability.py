"""The Logger / Tracer / Metrics singletons every handler uses (Powertools)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "kbs"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="KnowledgeBuildingSeries", service=SERVICE)
