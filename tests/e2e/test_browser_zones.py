"""The registration page's script writes each session's times in the visitor's zone; checked in
a real browser (zone overridden to New York) against the session's true instants."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.support import Served
from tests.e2e.test_browser import _driver, programme  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.xdist_group("e2e")]
VISITOR = "America/New_York"
END_TIME = re.compile(r"(\d\d):(\d\d) GMT([+-]\d\d):(\d\d)")


def test_the_page_shows_each_session_in_the_visitors_zone(programme: Served) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    driver = _driver(javascript=True)
    try:
        driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": VISITOR})
        driver.get(programme.api_url + "/")
        spans = driver.find_elements(By.CSS_SELECTOR, "[data-start]")
        assert len(spans) == 7
        for span in spans:
            text = span.text
            assert f"your time, {VISITOR}:" in text, text
            shown = END_TIME.findall(text)
            assert len(shown) == 2, text
            for (hh, mm, off_h, off_m), attribute in zip(
                shown, ("data-start", "data-end"), strict=True
            ):
                true = datetime.fromisoformat(str(span.get_attribute(attribute)))
                local = true.astimezone(ZoneInfo(VISITOR))
                sign = -1 if off_h.startswith("-") else 1
                offset = timedelta(hours=int(off_h), minutes=sign * int(off_m))
                assert offset == local.utcoffset(), text
                assert (int(hh), int(mm)) == (local.hour, local.minute), text
    finally:
        driver.quit()
