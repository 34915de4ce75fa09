"""The interval merge: order-independent, overlaps counted once, never more than the session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shared.attendance.merge import attended_minutes, union_seconds

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
intervals = st.lists(
    st.tuples(st.integers(-600, 12_000), st.integers(0, 9_000)).map(
        lambda p: (T0 + timedelta(seconds=p[0]), T0 + timedelta(seconds=p[0] + p[1]))
    ),
    max_size=12,
)


@given(intervals, st.randoms())
def test_the_union_does_not_depend_on_the_order_of_rows(rows, rng) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(rows)
    rng.shuffle(shuffled)
    assert union_seconds(shuffled) == union_seconds(rows)


@given(intervals)
def test_the_union_is_at_least_the_longest_join_and_at_most_their_sum(rows) -> None:  # type: ignore[no-untyped-def]
    lengths = [(end - start).total_seconds() for start, end in rows]
    assert max(lengths, default=0) <= union_seconds(rows) <= sum(lengths)


@given(intervals, st.integers(1, 600))
def test_minutes_never_exceed_the_session(rows, session_minutes) -> None:  # type: ignore[no-untyped-def]
    minutes = attended_minutes(rows, [], session_minutes)
    assert 0 <= minutes <= session_minutes
    assert minutes == min(session_minutes, round(union_seconds(rows) / 60 + 1e-9))


@given(intervals)
def test_a_repeated_or_contained_join_adds_nothing(rows) -> None:  # type: ignore[no-untyped-def]
    contained = [(s + (e - s) / 4, e - (e - s) / 4) for s, e in rows]
    assert union_seconds(rows + rows + contained) == union_seconds(rows)


def test_a_rejoin_after_a_gap_counts_both_stays_and_not_the_gap() -> None:
    first = (T0, T0 + timedelta(minutes=42))
    second = (T0 + timedelta(minutes=44), T0 + timedelta(minutes=93))
    assert attended_minutes([second, first], [], 120) == 91
    assert attended_minutes([second, first], [], 90) == 90


def test_rows_with_only_a_duration_add_up_capped() -> None:
    assert attended_minutes([], [50, 30], 90) == 80
    assert attended_minutes([], [50, 60], 90) == 90
