"""``kbs materials upload|list|withdraw``: the organisers' slides and guidance notes.

``upload`` is a plain S3 PutObject under ``sessions/{session}/{kind}/{file name}`` (any S3
client does the same); the material processor then checks the upload and records it, or
quarantines it and emails the organisers why. ``list`` shows what it made of them.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC
from pathlib import Path

from kbs import target as targets
from kbs.table import print_table
from shared.materials.filetypes import TYPES
from shared.platform.event_types import MATERIAL_KINDS, MATERIALS_PREFIX

# ``shared.materials.library`` and ``shared.materials.uploads`` are imported by the commands that
# use them: the
# handler modules they load (and their loggers) stay out of every other ``kbs`` command.


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("materials", help="upload, list or withdraw materials")
    commands = parser.add_subparsers(dest="materials_command", required=True)

    upload = commands.add_parser("upload", help="upload a file to a session's materials")
    upload.add_argument("session", help="session id, e.g. kbs-01-ict-hardware")
    upload.add_argument("file", type=Path, help="PDF, PPTX, DOCX, ODP or ODT")
    upload.add_argument("--kind", required=True, choices=MATERIAL_KINDS)
    targets.add_target_arguments(upload)
    upload.set_defaults(func=upload_command)

    lister = commands.add_parser("list", help="a session's materials and rejected uploads")
    lister.add_argument("session")
    targets.add_target_arguments(lister)
    lister.set_defaults(func=list_command)

    withdraw = commands.add_parser("withdraw", help="stop a material's links from working")
    withdraw.add_argument("material_id")
    targets.add_target_arguments(withdraw)
    withdraw.set_defaults(func=withdraw_command)


def upload_command(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        print(f"kbs: no file {args.file}", file=sys.stderr)
        return 2
    from shared.platform.clients import client

    target = targets.resolve(args)
    key = f"{MATERIALS_PREFIX}{args.session}/{args.kind}/{args.file.name}"
    extension = args.file.suffix.lower().lstrip(".")
    content_type = (
        TYPES[extension].content_type if extension in TYPES else "application/octet-stream"
    )
    with args.file.open("rb") as body:
        response = client("s3").put_object(
            Bucket=target.bucket, Key=key, Body=body, ContentType=content_type
        )
    version = response.get("VersionId", "-")
    print(f"uploaded s3://{target.bucket}/{key} (version {version})")
    print(f"it is checked in a few seconds: kbs materials list {args.session}")
    return 0


LIST_COLUMNS = ("ID", "KIND", "TITLE", "SIZE", "UPLOADED (UTC)", "STATUS")


def list_command(args: argparse.Namespace) -> int:
    from shared.materials import library, uploads

    target = targets.resolve(args)
    targets.require_session(target.table, args.session)
    records = library.session_materials(target.table, args.session)
    current = {r.material_id for r in library.current(records)}
    rows: list[tuple[str, ...]] = [LIST_COLUMNS]
    for record in records:
        status = (
            "withdrawn"
            if record.withdrawn_at
            else "current"
            if record.material_id in current
            else "older version"
        )
        rows.append(
            (
                record.material_id,
                record.kind.value,
                record.title,
                library.human_size(record.size),
                f"{record.uploaded_at.astimezone(UTC):%Y-%m-%d %H:%M}",
                status,
            )
        )
    if len(rows) > 1:
        print_table(rows)
    else:
        print(f"No materials for {args.session}.")
    prefix = f"{MATERIALS_PREFIX}{args.session}/"
    rejected = [q for q in uploads.quarantined(target.table) if q.key.startswith(prefix)]
    if rejected:
        print(f"\nRejected uploads ({len(rejected)}), moved to quarantine:")
        for item in rejected:
            print(f"  {item.key}\n    {item.message}\n    now at {item.quarantine_key}")
    return 0


def withdraw_command(args: argparse.Namespace) -> int:
    from shared.materials import library

    target = targets.resolve(args)
    try:
        record = library.withdraw(target.table, args.material_id, target.now())
    except library.MaterialNotFoundError:
        print(f"kbs: no material {args.material_id}", file=sys.stderr)
        return 1
    print(f"withdrawn {record.material_id} ({record.label}): its links no longer work")
    return 0
