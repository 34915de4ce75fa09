"""A real headless Chromium uses the registration page served by ``kbs serve``.

Debian's ``chromium`` and ``chromium-driver`` are installed by ``make test``; where they are
missing this test fails and says so, rather than passing without a browser.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EVENTS
from tests.e2e.support import Served, kbs, read_eml, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.xdist_group("e2e")]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
REFERENCE = re.compile(r"KBS-[A-Z0-9]{4}-[A-Z0-9]{4}")


def _driver(javascript: bool) -> Any:
    if not (Path(CHROMIUM).exists() and shutil.which("chromedriver")):
        pytest.fail(
            "headless Chromium is not installed: run `make test` (it installs Debian's chromium "
            "and chromium-driver) or `apt-get install chromium chromium-driver`",
            pytrace=False,
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,2400",
    ):
        options.add_argument(flag)
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture
def programme(stack: Served) -> Served:
    imported = kbs(
        "sessions", "import", str(EVENTS / "programme.sample.json"), "--local", str(stack.data_dir)
    )
    assert imported.returncode == 0, imported.stderr
    return stack


@pytest.fixture
def browser() -> Iterator[Any]:
    driver = _driver(javascript=True)
    yield driver
    driver.quit()


@pytest.fixture
def browser_without_javascript() -> Iterator[Any]:
    driver = _driver(javascript=False)
    yield driver
    driver.quit()


def _heading(driver: Any) -> str | None:
    """The page's ``<h1>`` text, or None while the next page is not there yet."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        return driver.find_element(By.TAG_NAME, "h1").text or None
    except (NoSuchElementException, StaleElementReferenceException):
        return None


def _fill(driver: Any, email: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    find = driver.find_element
    find(By.ID, "session-kbs-01-ict-hardware").click()
    find(By.ID, "full_name").send_keys("Łukasz Wiśniewski")
    email_field = find(By.ID, "email")
    email_field.clear()
    email_field.send_keys(email)
    find(By.ID, "organisation").send_keys("Urząd Miasta (test)")
    Select(find(By.ID, "country")).select_by_value("PL")


def test_a_registrant_sees_field_errors_then_a_confirmation(
    programme: Served, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(programme.api_url + "/")
    assert "Forced labour risks in ICT hardware" in browser.page_source

    # A bad submission: an invalid address and no consent.
    _fill(browser, "lukasz.at.example.pl")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    summary = wait_for(
        lambda: browser.find_element(By.ID, "error-summary").is_displayed() or None,
        what="the error summary",
    )
    assert summary
    email_error = browser.find_element(By.ID, "email-error")
    consent_error = browser.find_element(By.ID, "consent-error")
    assert email_error.is_displayed() and email_error.text
    assert consent_error.is_displayed() and consent_error.text
    assert browser.find_element(By.ID, "email").get_attribute("aria-invalid") == "true"
    assert browser.switch_to.active_element.get_attribute("id") == "error-summary"
    assert not list((programme.data_dir / "outbox").glob("*.eml"))

    # Corrected: the same page, now valid.
    browser.find_element(By.ID, "email").clear()
    browser.find_element(By.ID, "email").send_keys("lukasz.wisniewski@urzad.example.pl")
    browser.find_element(By.ID, "consent").click()
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    confirmation = wait_for(
        lambda: browser.find_element(By.ID, "confirmation").is_displayed() or None,
        what="the confirmation",
    )
    assert confirmation
    reference = browser.find_element(By.ID, "reference").text
    assert REFERENCE.fullmatch(reference), reference
    assert not browser.find_element(By.ID, "error-summary").is_displayed()

    emails = wait_for(
        lambda: list((programme.data_dir / "outbox").glob("*.eml")), timeout=30, what="an email"
    )
    message = read_eml(emails[0])
    assert message["To"].addresses[0].addr_spec == "lukasz.wisniewski@urzad.example.pl"
    body = message.get_body(("plain",))
    assert body is not None and reference in body.get_content()


def test_the_form_works_with_javascript_off(
    programme: Served,
    browser_without_javascript: Any,
) -> None:
    from selenium.webdriver.common.by import By

    browser = browser_without_javascript
    browser.get(programme.api_url + "/")
    _fill(browser, "anna.kowalska@urzad.example.pl")
    browser.find_element(By.ID, "consent").click()
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    wait_for(lambda: _heading(browser) == "Registration received", what="the confirmation page")
    assert REFERENCE.search(browser.page_source)

    browser.back()
    browser.find_element(By.ID, "email").clear()
    browser.find_element(By.ID, "email").send_keys("not-an-address")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(lambda: _heading(browser) == "There is a problem", what="the problem page")
    assert "email" in browser.page_source.lower()


# --- accessibility, narrow screens, calendar feeds (issue 14, items 3-5) --------------------

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PHONE_WIDTH = 390


def _axe_serious(driver: Any) -> list[str]:
    """The serious and critical axe-core violations of the page shown (rule: nodes)."""
    if not AXE.exists():
        pytest.fail("axe-core is not installed: run `npm install`", pytrace=False)
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(60)
    result = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(function (r) { done(r.violations); })"
        ".catch(function (e) {"
        "  done([{id: 'axe-error', impact: 'critical', nodes: [String(e)]}]);"
        "});"
    )
    return [
        f"{v['id']} ({v['impact']}): {len(v['nodes'])} node(s)"
        for v in result
        if v.get("impact") in ("serious", "critical")
    ]


def _overflow(driver: Any) -> tuple[int, int]:
    """(scrollWidth of the document, the viewport's innerWidth)."""
    return tuple(
        driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth];")
    )


def test_the_page_passes_axe_with_no_serious_violations_and_fits_a_phone(
    programme: Served, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(programme.api_url + "/")
    wait_for(
        lambda: browser.find_elements(By.CSS_SELECTOR, "[data-places]") or None,
        what="the sessions",
    )
    assert _axe_serious(browser) == []
    # The page links the programme's feed, the contact address; "Fully booked" is its own text.
    feed = browser.find_element(By.CSS_SELECTOR, "#calendar-feed a[href^='webcal://']")
    assert feed.get_attribute("href").endswith("/sessions.ics")
    assert "replaces the invitations" in browser.find_element(By.ID, "calendar-feed").text
    assert browser.find_element(By.CSS_SELECTOR, "footer a[href^='mailto:']")

    # With field errors shown: text fields are marked too (aria-invalid and a visible border).
    _fill(browser, "not.an.address")
    browser.find_element(By.ID, "full_name").clear()
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(
        lambda: browser.find_element(By.ID, "error-summary").is_displayed() or None,
        what="the error summary",
    )
    for field in ("email", "full_name"):
        element = browser.find_element(By.ID, field)
        assert element.get_attribute("aria-invalid") == "true", field
        assert element.value_of_css_property("border-top-width") == "3px", field
    assert _axe_serious(browser) == []

    # The focus ring: at least 3:1 against the white page (WCAG 1.4.11).
    browser.find_element(By.ID, "organisation").click()
    colour = browser.switch_to.active_element.value_of_css_property("outline-color")
    assert _contrast(colour, "rgb(255, 255, 255)") >= 3, colour
    box = browser.find_element(By.ID, "session-kbs-01-ict-hardware").rect
    assert box["width"] >= 24 and box["height"] >= 24, box

    browser.set_window_size(PHONE_WIDTH, 844)
    browser.get(programme.api_url + "/")
    width, viewport = _overflow(browser)
    assert viewport <= PHONE_WIDTH + 20 and width <= viewport, (width, viewport)


def test_every_email_kind_fits_a_390_pixel_screen(browser: Any, tmp_path: Path) -> None:
    from shared.mail import templates
    from tests.unit.golden_cases import EMAILS

    browser.set_window_size(PHONE_WIDTH, 844)
    brand = templates.Brand(series_name="Knowledge Building Series")
    for case, render in EMAILS.items():
        html = templates.with_brand(render(), brand).html
        page = tmp_path / f"{case}.html"
        page.write_text(html, encoding="utf-8")
        browser.get(page.as_uri())
        width, viewport = _overflow(browser)
        assert width <= viewport, (case, width, viewport)
        visible = browser.execute_script("return document.body.innerText;")
        assert "token=" not in visible, case  # buttons and short link texts, never a token URL


def test_the_feed_a_calendar_subscribes_to_follows_a_reschedule(
    programme: Served, browser: Any
) -> None:
    import urllib.request
    from datetime import datetime, timedelta

    from icalendar import Calendar
    from selenium.webdriver.common.by import By

    browser.get(programme.api_url + "/")
    _fill(browser, "feed.subscriber@urzad.example.pl")
    browser.find_element(By.ID, "consent").click()
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(
        lambda: browser.find_element(By.ID, "confirmation").is_displayed() or None,
        what="the confirmation",
    )
    emails = wait_for(
        lambda: list((programme.data_dir / "outbox").glob("*.eml")), timeout=30, what="an email"
    )
    text = read_eml(emails[0]).get_body(("plain",))
    assert text is not None
    (webcal,) = re.findall(r"webcal://\S+\.ics", text.get_content())
    feed_url = "http://" + webcal.removeprefix("webcal://")  # as a calendar app fetches it

    def subscribe() -> Any:
        request = urllib.request.Request(
            feed_url, headers={"User-Agent": "Google-Calendar-Importer", "Accept": "*/*"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
            assert answer.headers["Content-Type"].startswith("text/calendar")
            (event,) = Calendar.from_ical(answer.read()).walk("VEVENT")
            return event

    before = subscribe()
    start = before.decoded("DTSTART")
    moved = (start + timedelta(days=1, hours=2)).astimezone(datetime.now().astimezone().tzinfo)
    changed = kbs(
        "sessions",
        "reschedule",
        "kbs-01-ict-hardware",
        "--start",
        moved.isoformat(),
        "--local",
        str(programme.data_dir),
    )
    assert changed.returncode == 0, changed.stderr
    after = wait_for(
        lambda: (e := subscribe()).decoded("DTSTART") != start and e, what="the moved event"
    )
    assert after.decoded("DTSTART") == moved
    assert str(after["UID"]) == str(before["UID"])

    # Those who did not subscribe get the new time by email, beside the old one.
    def new_time_email() -> str | None:
        for path in (programme.data_dir / "outbox").glob("*.eml"):
            message = read_eml(path)
            if str(message["Subject"]).startswith("New time"):
                body = message.get_body(("plain",))
                return body.get_content() if body is not None else None
        return None

    told = wait_for(new_time_email, timeout=60, what="the new-time email")
    assert "Previously:" in told and "webcal://" in told


def _contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two CSS ``rgb(...)``/``rgba(...)`` colours."""

    def luminance(colour: str) -> float:
        red, green, blue = (int(x) / 255 for x in re.findall(r"\d+(?:\.\d+)?", colour)[:3])
        linear = [
            c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)
        ]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
