"""``kbs report registrations|series`` and ``kbs authorities`` on a seeded series (moto):
row counts, inert CSV and XLSX cells, aliases, totals, and never a Scan."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from kbs.cli import main
from shared.platform import clients
from shared.registrations.models import RegistrationStatus
from shared.reports import authorities
from tests.conftest import TABLE_NAME
from tests.reports_support import FORMULA, Seeded, seed, session
from tests.support import local_stack_file


@pytest.fixture
def seeded(aws: None) -> Seeded:
    sessions = [session(1), session(2), session(3, year=2027)]
    return seed(TABLE_NAME, sessions, per_session=40)


@pytest.fixture
def data_dir(tmp_path: Path, seeded: Seeded) -> Path:
    return local_stack_file(tmp_path)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Iterator[Counter[str]]:
    """Every AWS operation the commands make, by name (a botocore ``before-call`` hook on each
    session the commands' target creates)."""
    seen: Counter[str] = Counter()
    real_reset = clients.reset

    def reset_and_watch() -> None:
        real_reset()
        clients._session().events.register(
            "before-call", lambda event_name, **_: seen.update([event_name.split(".", 1)[1]])
        )

    monkeypatch.setattr(clients, "reset", reset_and_watch)
    yield seen


def kbs(data_dir: Path, *argv: str) -> int:
    return main([*argv, "--local", str(data_dir)])


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_registrations_report_has_one_row_per_booking(
    data_dir: Path, seeded: Seeded, calls: Counter[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert kbs(data_dir, "report", "registrations", "--format", "csv") == 0
    header, *rows = csv_rows(capsys.readouterr().out)
    assert header[:5] == ["reference", "name", "email", "organisation", "authority"]
    assert len(rows) == len(seeded.registrations) == 120
    waitlisted = [r for r in rows if r[9] == "waitlisted"]
    # Positions in line: 1, 2, ... per session, in the order the entries joined.
    assert sorted(int(r[10]) for r in waitlisted if r[8] == "kbs-01-series") == list(
        range(1, len(waitlisted) // 3 + 1)
    )
    attended = {(r[8], r[2]): int(r[12]) for r in rows if r[12]}
    assert attended == seeded.attendance

    one = "kbs-02-series"
    assert kbs(data_dir, "report", "registrations", "--session", one, "--status", "confirmed",
               "--format", "csv") == 0  # fmt: skip
    _, *confirmed = csv_rows(capsys.readouterr().out)
    expected = [
        r
        for r in seeded.registrations
        if r.session_id == one and r.status is RegistrationStatus.CONFIRMED
    ]
    assert len(confirmed) == len(expected) and {r[9] for r in confirmed} == {"confirmed"}

    assert kbs(data_dir, "report", "registrations", "--session", one) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:2] == ["reference", "name"] and len(table) == 41

    assert calls["dynamodb.Query"] > 0
    assert "dynamodb.Scan" not in calls


def test_formula_like_organisation_comes_out_inert_in_csv_and_xlsx(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from openpyxl import load_workbook

    assert kbs(data_dir, "report", "registrations", "--format", "csv") == 0
    rows = csv_rows(capsys.readouterr().out)
    organisations = {r[3] for r in rows[1:]}
    assert f"'{FORMULA}" in organisations and FORMULA not in organisations
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)

    out = tmp_path / "registrations.xlsx"
    assert kbs(data_dir, "report", "registrations", "--format", "xlsx", "--out", str(out)) == 0
    sheet = load_workbook(out)["registrations"]
    header = [c.value for c in sheet[1]]
    assert header[3] == "organisation" and sheet[1][0].font.bold
    cells = [row[3] for row in sheet.iter_rows(min_row=2)]
    assert len(cells) == 120
    formula_cells = [c for c in cells if str(c.value).lstrip("'") == FORMULA]
    assert formula_cells and all(c.data_type == "s" for c in formula_cells)
    assert all(c.value == f"'{FORMULA}" for c in formula_cells)  # inert text, never a formula
    # Every cell written is text (empty cells read back as None).
    assert all(c.data_type == "s" for row in sheet.iter_rows() for c in row if c.value is not None)
    assert sheet.column_dimensions["D"].width >= len(FORMULA)


def test_xlsx_needs_an_output_file(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kbs(data_dir, "report", "series", "--format", "xlsx") == 2
    assert "--out" in capsys.readouterr().err


@pytest.mark.parametrize("out", ["-", "folder", "missing/report.xlsx"])
def test_an_output_that_is_not_a_file_is_refused_before_anything_is_read(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], out: str
) -> None:
    (tmp_path / "folder").mkdir()
    target = out if out == "-" else str(tmp_path / out)
    assert kbs(data_dir, "report", "series", "--format", "xlsx", "--out", target) == 2
    assert "--out" in capsys.readouterr().err
    assert not (Path.cwd() / "-").exists()


def _series(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, list[list[str]]]:
    assert kbs(data_dir, "report", "series", "--format", "csv") == 0
    tables: dict[str, list[list[str]]] = {}
    for block in capsys.readouterr().out.split("\r\n\r\n"):
        header, *rows = csv_rows(block)
        tables[header[0]] = rows
    return tables


def test_aliases_merge_authorities(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = {r[0]: int(r[1]) for r in _series(data_dir, capsys)["authority"]}
    # Case, spaces and accents normalised: two spellings, one authority already.
    assert before["Stockholms stad"] == 16 and before["Stockholm City"] == 8

    assert kbs(data_dir, "authorities", "alias", "Stockholm  city", "Stockholms stad") == 0
    after = {r[0]: int(r[1]) for r in _series(data_dir, capsys)["authority"]}
    assert "Stockholm City" not in after and after["Stockholms stad"] == 24
    assert kbs(data_dir, "authorities", "list") == 0
    assert "Stockholms stad  Stockholm city" in capsys.readouterr().out

    assert kbs(data_dir, "report", "registrations", "--format", "csv") == 0
    rows = csv_rows(capsys.readouterr().out)[1:]
    assert {r[4] for r in rows if "stockholm" in r[3].lower()} == {"Stockholms stad"}

    assert kbs(data_dir, "authorities", "unalias", "STOCKHOLM CITY") == 0
    assert "Stockholm City" in {r[0] for r in _series(data_dir, capsys)["authority"]}


def test_alias_chain_or_cycle_is_refused(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kbs(data_dir, "authorities", "alias", "Stockholm City", "Stockholms stad") == 0
    capsys.readouterr()
    # A cycle: the authority would become an alias of its own alias.
    assert kbs(data_dir, "authorities", "alias", "Stockholms stad", "Stockholm City") == 2
    assert "would make a cycle" in capsys.readouterr().err
    assert kbs(data_dir, "authorities", "alias", "Stockholms stad", "Lyon") == 2
    assert "unalias them first (no chains)" in capsys.readouterr().err
    # A chain: an alias to an alias.
    assert kbs(data_dir, "authorities", "alias", "Sthlm", "stockholm city") == 2
    assert "is itself an alias of 'Stockholms stad'" in capsys.readouterr().err
    assert kbs(data_dir, "authorities", "alias", "Stockholms Städ", "stockholms stad") == 2
    assert "already the same authority" in capsys.readouterr().err
    assert authorities.aliases(TABLE_NAME) == [
        authorities.Alias("Stockholm City", "Stockholms stad")
    ]
    assert kbs(data_dir, "authorities", "unalias", "nothing known") == 2


def test_series_totals_equal_the_sum_of_rows(
    data_dir: Path, seeded: Seeded, calls: Counter[str], capsys: pytest.CaptureFixture[str]
) -> None:
    tables = _series(data_dir, capsys)
    sessions, totals = tables["session"], {r[0]: r for r in tables["period"]}
    assert set(totals) == {"2026", "2027", "series"}
    for column in range(3, 8):  # registered .. attended
        assert int(totals["series"][column - 2]) == sum(int(r[column]) for r in sessions)
        assert int(totals["2026"][column - 2]) == sum(
            int(r[column]) for r in sessions if r[1] == "2026"
        )
    assert int(totals["series"][1]) == len(seeded.registrations)
    attended = len(seeded.attendance)
    for group in ("authority", "country"):
        assert sum(int(r[2]) for r in tables[group]) == attended == int(totals["series"][8])
        assert sum(float(r[4]) for r in tables[group]) == float(totals["series"][9])
    # CPD: minutes / 60 rounded down to the quarter hour, per attended session.
    quarters = sum(m // 15 for m in seeded.attendance.values())
    assert float(totals["series"][9]) == quarters / 4
    assert int(totals["series"][7]) == 40  # distinct people

    assert kbs(data_dir, "report", "series") == 0
    printed = capsys.readouterr().out
    assert "Sessions\nsession" in printed and "Totals\nperiod" in printed
    assert "dynamodb.Scan" not in calls and calls["dynamodb.Query"] >= 4


def test_scan_would_be_seen(calls: Counter[str], data_dir: Path) -> None:
    """The hook the report tests rely on does count a Scan."""
    from kbs.target import local_target

    local_target(data_dir).activate()
    clients.table(TABLE_NAME).scan(Limit=1)
    assert calls["dynamodb.Scan"] == 1


def test_unknown_session_is_a_clear_error(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kbs(data_dir, "report", "registrations", "--session", "kbs-99-nothing") == 2
    assert "no session kbs-99-nothing" in capsys.readouterr().err
