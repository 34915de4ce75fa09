"""``kbs certificates list|revoke|reissue|resend``: certificates of attendance.

``list SESSION`` prints every certificate of a session (number, status, holder); ``revoke
NUMBER --reason TEXT`` revokes a valid one; ``reissue NUMBER [--name TEXT]`` gives a new number
(a corrected name), the old one revoked and pointing to it, and emails the holder; ``resend
NUMBER`` emails a valid certificate again. Issuing itself follows an attendance import.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from kbs import target as targets

if TYPE_CHECKING:
    from shared.certificates.store import Certificate


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("certificates", help="certificates of attendance")
    commands = parser.add_subparsers(dest="certificates_command", required=True)

    listing = commands.add_parser("list", help="a session's certificates, in every state")
    listing.add_argument("session_id", metavar="SESSION")
    targets.add_target_arguments(listing)
    listing.set_defaults(func=list_command)

    revoke = commands.add_parser("revoke", help="revoke a valid certificate")
    revoke.add_argument("number", metavar="NUMBER")
    revoke.add_argument("--reason", required=True)
    targets.add_target_arguments(revoke)
    revoke.set_defaults(func=revoke_command)

    reissue = commands.add_parser(
        "reissue", help="a new number (a corrected name), the old one revoked and pointing to it"
    )
    reissue.add_argument("number", metavar="NUMBER")
    reissue.add_argument("--name", help="the holder's corrected name")
    targets.add_target_arguments(reissue)
    reissue.set_defaults(func=reissue_command)

    resend = commands.add_parser("resend", help="email a valid certificate to its holder again")
    resend.add_argument("number", metavar="NUMBER")
    targets.add_target_arguments(resend)
    resend.set_defaults(func=resend_command)


def list_command(args: argparse.Namespace) -> int:
    from shared.certificates import store

    target = targets.resolve(args)
    targets.require_session(target.table, args.session_id)
    found = store.session_certificates(target.table, args.session_id)
    print(f"{args.session_id}: {len(found)} certificate(s)")
    for cert in found:
        note = f" ({cert.reason}" + (f", now {cert.replaced_by}" if cert.replaced_by else "")
        note = note + ")" if cert.status == store.REVOKED else ""
        print(
            f"  {cert.number}  {cert.status:<9} {cert.minutes:>4} min  {cert.name} <{cert.email}>"
            f"{note}"
        )
    return 0


def revoke_command(args: argparse.Namespace) -> int:
    from shared.certificates import issuing

    target = targets.resolve(args)
    return _run(
        lambda: issuing.revoke(
            args.number, args.reason, settings=target.settings(), now=target.now()
        ),
        "revoked",
    )


def reissue_command(args: argparse.Namespace) -> int:
    from shared.certificates import issuing

    target = targets.resolve(args)
    return _run(
        lambda: issuing.reissue(
            args.number, args.name, settings=target.settings(), now=target.now()
        ),
        f"issued, replacing {args.number}",
    )


def resend_command(args: argparse.Namespace) -> int:
    from shared.certificates import issuing

    target = targets.resolve(args)
    try:
        result = issuing.resend(args.number, settings=target.settings(), now=target.now())
    except issuing.CertificateError as exc:
        return _refused(str(exc))
    if result.suppressed:
        return _refused(f"the holder's address is suppressed ({result.suppressed})")
    print(f"{args.number}: resent")
    return 0


def _run(action: Callable[[], Certificate], verb: str) -> int:
    from shared.certificates import issuing

    try:
        cert = action()
    except issuing.CertificateError as exc:
        return _refused(str(exc))
    print(f"{cert.number}: {verb}")
    return 0


def _refused(message: str) -> int:
    print(f"kbs certificates: refused: {message}", file=sys.stderr)
    return 1
