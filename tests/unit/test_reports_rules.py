"""The reports' rules without AWS: normalised authorities, inert cells, CPD quarter hours."""

from __future__ import annotations

import csv
import io

import pytest

from shared.reports.authorities import Alias, Resolver, normalise
from shared.reports.series import cpd_quarters, hours
from shared.reports.writers import Table, inert, to_csv


@pytest.mark.parametrize(
    "spelling",
    [
        "Stockholms stad",
        "  STOCKHOLMS   STAD ",
        "Stockholms städ",
        "stockholms\tstad",
        "\uff33\uff34\uff2f\uff23\uff2b\uff28\uff2f\uff2c\uff2d\uff33 stad",  # full width,
    ],
)
def test_spellings_of_one_authority_normalise_alike(spelling: str) -> None:
    assert normalise(spelling) == "stockholms stad"


def test_an_alias_names_its_authority_whatever_the_spelling() -> None:
    resolver = Resolver([Alias("Stockholm City", "Stockholms stad")])
    names = {
        resolver.authority(s) for s in ("STOCKHOLM  CITY", "stockholms stad", "Stockholms Städ")
    }
    assert names == {"Stockholms stad"}
    assert resolver.authority("Ville  de Lyon") == "Ville de Lyon"
    assert resolver.authority("VILLE DE LYON") == "Ville de Lyon"  # the first spelling seen


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_cells_get_a_quote(cell: str) -> None:
    assert inert(cell) == f"'{cell}"
    (row,) = csv.reader(io.StringIO(to_csv([Table("t", ("h",), [(cell,)])])[3:]))
    assert row == [f"'{cell}"]


@pytest.mark.parametrize("cell", ["Stockholms stad", "a=b", "", "1"])
def test_other_cells_are_unchanged(cell: str) -> None:
    assert inert(cell) == cell


@pytest.mark.parametrize(
    ("minutes", "text"), [(0, "0.00"), (14, "0.00"), (15, "0.25"), (80, "1.25"), (90, "1.50")]
)
def test_cpd_hours_are_rounded_down_to_the_quarter(minutes: int, text: str) -> None:
    assert hours(cpd_quarters(minutes)) == text
