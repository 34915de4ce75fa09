"""moto in server mode on loopback, in this process, with DynamoDB requests one at a time.

moto's DynamoDB backend has no locks: a conditional write checks, then writes, and another
thread's write can land in between, so concurrent requests could pass a capacity condition
twice. DynamoDB in AWS makes each request atomic; here a lock makes each DynamoDB request
run alone (a few milliseconds each, with :mod:`kbs.local.moto_patch` applied). Other services
run concurrently, as before (SQS long polls must not block anything).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from kbs.local import moto_patch

_SERIALISED_TARGETS = ("DynamoDB_",)  # X-Amz-Target of DynamoDB's JSON protocol


def serialising(app: Callable[..., Iterable[bytes]]) -> Callable[..., list[bytes]]:
    """A WSGI app that runs ``app`` under one lock for DynamoDB requests, freely otherwise."""
    lock = threading.Lock()

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith(_SERIALISED_TARGETS):
            with lock:
                return list(app(environ, start_response))
        return list(app(environ, start_response))

    return wsgi


class MotoServer:
    """moto's WSGI app on ``host``:``port`` (0: a free port), served by a thread."""

    def __init__(self, host: str, port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        moto_patch.apply()
        app = serialising(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            host, port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="kbs-moto", daemon=True
        )

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
