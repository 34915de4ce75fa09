"""The local stack behind ``kbs serve``: moto in server mode, provisioned from the wiring.

- :mod:`kbs.local.server`: provisioning, and :class:`LocalStack`.
- :mod:`kbs.local.moto_process`: moto on loopback and the outbox writer, in a process of
  their own; :mod:`kbs.local.moto_server` and :mod:`kbs.local.moto_patch` inside it.
- :mod:`kbs.local.gateway`: the HTTP API (payload v2) in front of the handlers.
- :mod:`kbs.local.delivery`: rule -> SQS queue -> handler, like a Lambda event source mapping.
- :mod:`kbs.local.clock`: scheduled rules fired from a real or simulated clock.
- :mod:`kbs.local.outbox`: every email moto accepted, written as an ``.eml`` file.
- :mod:`kbs.local.runtime`: the Lambda-like runtime the others call handlers through.
- :mod:`kbs.local.sandbox`: busy functions in sandbox processes, invoked concurrently.
- :mod:`kbs.local.state`: ``local.json`` and the one-stack-per-data-dir lock.
"""
