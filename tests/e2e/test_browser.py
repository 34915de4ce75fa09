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
