"""A session change's names are text, translated when known, never a format string."""

from __future__ import annotations

import pytest

from shared.mail import templates
from tests.unit.golden_cases import LATE, registration


@pytest.mark.parametrize("changes", ["% was moved", "100% new room", "%(series)s"])
def test_a_change_name_with_a_percent_sign_is_shown_as_written(changes: str) -> None:
    content = templates.rescheduled(registration(), LATE, changes=changes)

    assert changes in content.text


def test_a_known_change_name_is_translated() -> None:
    content = templates.rescheduled(registration(language="fr"), LATE, changes="new join link")

    assert "new join link" not in content.text
