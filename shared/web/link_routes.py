"""What the signed-link routes (cancel, unsubscribe, "your data") share: the token from the query
or the posted form, the request's time, and one way of answering: a page or JSON, a 4xx that
says nothing changed for a missing, bad or expired link or an unreadable body, and a 503 with
``Retry-After`` when a dependency fails. Refusals are counted and logged, never the token."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from shared.platform.observability import logger, metrics
from shared.web import forms, links, pages
from shared.web.responses import (
    dependency_failed,
    html_response,
    json_response,
    request_time,
    wants_html,
)


class MissingTokenError(ValueError):
    """The request carries no token."""


@dataclass(frozen=True)
class LinkNotices:
    """What one kind of link answers when it is refused, and how refusals are counted."""

    missing: pages.Notice
    invalid: pages.Notice
    expired: pages.Notice
    refused_metric: str
    refused_log: str


class LinkRoutes:
    """An HTTP resolver for one kind of signed link, with the shared answers registered; the
    function adds its routes to :attr:`app` and its own refusals with :meth:`refused`.

    Powertools validates the query (the ``token`` of :data:`shared.web.contract.QueryToken`); a
    refusal is the same 400 as an unreadable body. Bodies are read by :mod:`shared.web.forms`
    (form posts arrive base64-encoded, and its 413/415 answers are the contract)."""

    def __init__(self, notices: LinkNotices, unavailable: Sequence[type[Exception]] = ()) -> None:
        self.app = APIGatewayHttpResolver(enable_validation=True)
        self.notices = notices
        self.app.exception_handler(RequestValidationError)(
            lambda error: self._unreadable(forms.invalid_request(error.errors()))
        )
        self.app.exception_handler(MissingTokenError)(
            lambda _: self.refused(notices.missing, "missing")
        )
        self.app.exception_handler(links.InvalidLinkError)(self._invalid)
        self.app.exception_handler(forms.IntakeError)(self._unreadable)
        self.app.exception_handler([ClientError, BotoCoreError, *unavailable])(self._unavailable)

    @property
    def now(self) -> datetime:
        return request_time(self.app.current_event)

    @property
    def wants_html(self) -> bool:
        return wants_html(self.app.current_event)

    def query_token(self, token: str | None) -> str:
        """The ``token`` query parameter; :class:`MissingTokenError` if absent or empty."""
        return _token(token)

    def posted_token(self, token: str | None) -> str:
        """The token of the URL (one-click posts: their body is not read), else of the posted
        form or JSON body."""
        event = self.app.current_event
        if token:
            return token
        given = forms.read_fields(event.raw_event) if event.body else {}
        return _token(given.get("token"))

    def refused(self, notice: pages.Notice, reason: str) -> Response:
        """A link or request that changes nothing: counted and logged (never the token)."""
        metrics.add_metric(name=self.notices.refused_metric, unit=MetricUnit.Count, value=1)
        logger.info(self.notices.refused_log, extra={"status": notice.status, "reason": reason})
        return self.answer(notice)

    def answer(
        self,
        notice: pages.Notice,
        headers: dict[str, str] | None = None,
        *,
        session_title: str = "",
        when: str = "",
        details: dict[str, Any] | None = None,
    ) -> Response:
        """The notice as a page (naming the session when given) or as JSON (with ``details``)."""
        if self.wants_html:
            page = pages.notice_page(notice, session_title, when)
            return html_response(notice.status, page, headers)
        body = {"status": notice.code, "message": notice.message, **(details or {})}
        return json_response(notice.status, body, headers)

    def _invalid(self, error: links.InvalidLinkError) -> Response:
        notice = self.notices.expired if error.reason == "expired" else self.notices.invalid
        return self.refused(notice, error.reason)

    def _unreadable(self, error: forms.IntakeError) -> Response:
        message = f"{' '.join(error.errors.values())} {pages.UNCHANGED}"
        notice = pages.Notice(error.status, "bad_request", "This request cannot be read", message)
        return self.refused(notice, "unreadable body")

    def _unavailable(self, error: Exception) -> Response:
        return self.answer(pages.LINK_UNAVAILABLE, dependency_failed(error))


def _token(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise MissingTokenError
    return value
