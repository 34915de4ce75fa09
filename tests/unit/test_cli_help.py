"""``kbs`` help texts are plain text: argparse prints them as written."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from kbs.cli import build_parser, main


def parsers(
    parser: argparse.ArgumentParser, name: str = "kbs"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command, sub in action.choices.items():
                yield from parsers(sub, f"{name} {command}")


def test_no_help_text_shows_markup() -> None:
    found = list(parsers(build_parser()))
    marked = {name: p.format_help() for name, p in found if "`" in p.format_help()}

    assert len(found) > 20  # every command and subcommand was looked at
    assert marked == {}


def test_kbs_help_names_the_commands_in_plain_words(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])

    out = capsys.readouterr().out
    assert exited.value.code == 0
    assert "Organiser commands for the Knowledge Building Series" in out
    assert "outbox" in out and "tick" in out
    assert "``" not in out
