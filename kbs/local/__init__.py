"""The local stack behind ``kbs serve``: moto in server mode, provisioned from the wiring.

- :mod:`kbs.local.server`: moto on loopback, provisioning, and :class:`LocalStack`.
- :mod:`kbs.local.gateway`: the HTTP API (payload v2) in front of the handlers.
- :mod:`kbs.local.delivery`: rule -> SQS queue -> handler, like a Lambda event source mapping.
- :mod:`kbs.local.clock`: scheduled rules fired from a real or simulated clock.
- :mod:`kbs.local.outbox`: every email moto accepted, written as an ``.eml`` file.
- :mod:`kbs.local.runtime`: the Lambda-like runtime the others call handlers through.
- :mod:`kbs.local.state`: ``local.json`` and the one-stack-per-data-dir lock.
"""
