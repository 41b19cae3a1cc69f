"""The simulator page's USSD mode in headless Chromium: dial, answer each pop-up, read the END screen and the
receipt that arrives by SMS in the log, dial again; on a phone-sized window too. Screenshots go to
test-artifacts/simulator-*.png (gitignored). Skipped where Chromium or chromedriver is not installed."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.test_dashboard_browser import ARTIFACTS, browser, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
ASHA, TREASURER = "+255712000001", "+255712000008"


def _shot(driver, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"simulator-{name}.png"))


def _screen_says(driver, words: str) -> str:
    """Wait until the pop-up shows `words`; its text."""
    WebDriverWait(driver, 10).until(lambda d: words in d.find_element(By.ID, "ussd-screen").text)
    return driver.find_element(By.ID, "ussd-screen").text


def _answer(driver, text: str) -> None:
    box = driver.find_element(By.ID, "ussd-answer")
    box.send_keys(text)
    driver.find_element(By.ID, "ussd-send").click()


@pytest.mark.parametrize("size", [(1200, 900), (390, 800)], ids=["desktop", "phone"])
def test_a_ussd_session_in_the_simulator_page(browser, server, db, cluster, add_member, size):  # noqa: F811
    add_member(ASHA)
    add_member(TREASURER, admin_role="treasurer")
    browser.set_window_size(*size)
    browser.get(server)
    browser.find_element(By.ID, "mode-ussd").click()
    assert not browser.find_element(By.ID, "f").is_displayed()
    dial = browser.find_element(By.ID, "dial")
    assert dial.text == "Dial *384#"
    dial.click()
    main = _screen_says(browser, "Report a deposit")
    assert main.startswith("Moshi Tailors") and "\n2 Report a deposit\n" in main  # line breaks kept
    assert "monospace" in browser.find_element(By.ID, "ussd-screen").value_of_css_property("font-family")
    _shot(browser, f"ussd-menu-{size[0]}")
    _answer(browser, "2")
    _screen_says(browser, "How much")
    _answer(browser, "5000")
    _screen_says(browser, "reference")
    _answer(browser, "QK12AB")
    _screen_says(browser, "QK12AB")
    _answer(browser, "1")
    assert _screen_says(browser, "noted") == "Deposit of TSh5,000 noted. The treasurer will confirm it and tell you."
    assert not browser.find_element(By.ID, "ussd-answer").is_displayed()
    WebDriverWait(browser, 10).until(  # the receipt by SMS, through the inbox poll
        lambda d: any("TSh5,000 noted" in m.text for m in d.find_elements(By.CSS_SELECTOR, "#log .msg.bot")))
    _shot(browser, f"ussd-end-{size[0]}")
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    browser.find_element(By.ID, "ussd-again").click()
    _screen_says(browser, "Report a deposit")
    _answer(browser, "1")
    assert _screen_says(browser, "savings") == "Your savings: TSh0. No loan."
    browser.find_element(By.ID, "ussd-close").click()
    assert not browser.find_element(By.ID, "ussd").is_displayed()
    browser.refresh()  # the mode is remembered; the SMS log holds the receipt, not the USSD screens
    assert browser.find_element(By.ID, "dial").is_displayed()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#log .msg"))
    assert [m.text.split("\n")[0] for m in browser.find_elements(By.CSS_SELECTOR, "#log .msg")] == [
        "Deposit of TSh5,000 noted. The treasurer will confirm it and tell you."]
