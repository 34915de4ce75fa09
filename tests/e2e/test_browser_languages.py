"""The registration page's script speaks the page language, in a real headless Chromium against
``kbs serve``: chosen by the browser's ``Accept-Language`` or by ``?lang=fr``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.support import Served, wait_for
from tests.e2e.test_browser import _axe_serious, _driver, programme  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.xdist_group("e2e")]
VISITOR = "America/New_York"


def _french_script_texts(driver: Any) -> None:
    """The times the script writes for the visitor's zone and the field errors it shows are
    French."""
    from selenium.webdriver.common.by import By

    spans = driver.find_elements(By.CSS_SELECTOR, "[data-start]")
    assert spans
    for span in spans:
        assert f"(votre heure, {VISITOR} :" in span.text, span.text

    driver.find_element(By.ID, "full_name").send_keys("Claire Dubois")
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(
        lambda: driver.find_element(By.ID, "error-summary").is_displayed() or None,
        what="the error summary",
    )
    assert driver.find_element(By.ID, "email-error").text == "Indiquez votre adresse électronique."
    consent = driver.find_element(By.ID, "consent-error").text
    assert consent.startswith("Cochez la case de consentement"), consent
    summary = driver.find_element(By.ID, "error-summary").text
    assert summary.startswith("Il y a un problème"), summary


def test_the_browsers_accept_language_makes_the_script_french(programme: Served) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    driver = _driver(javascript=True)
    try:
        driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": VISITOR})
        agent = driver.execute_script("return navigator.userAgent;")
        driver.execute_cdp_cmd(
            "Network.setUserAgentOverride",
            {"userAgent": agent, "acceptLanguage": "fr-BE,fr;q=0.9,en;q=0.5"},
        )
        driver.get(programme.api_url + "/")
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
        places = wait_for(
            lambda: driver.find_element(By.CSS_SELECTOR, "[data-places]").text or None,
            what="the places",
        )
        assert places.endswith("places restantes"), places
        _french_script_texts(driver)
    finally:
        driver.quit()


def test_lang_fr_in_the_address_makes_the_page_and_its_script_french(
    programme: Served,  # noqa: F811
) -> None:
    from selenium.webdriver.common.by import By

    driver = _driver(javascript=True)
    try:
        driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": VISITOR})
        driver.get(programme.api_url + "/?lang=fr")
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
        assert driver.find_element(By.CSS_SELECTOR, "button[type=submit]").text == "S'inscrire"
        assert _axe_serious(driver) == []
        _french_script_texts(driver)
        assert _axe_serious(driver) == []

        # The language links lead to the other languages.
        driver.find_element(By.CSS_SELECTOR, "a[hreflang=de]").click()
        wait_for(
            lambda: driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de" or None,
            what="the German page",
        )
        assert driver.find_element(By.CSS_SELECTOR, "button[type=submit]").text == "Anmelden"
    finally:
        driver.quit()
