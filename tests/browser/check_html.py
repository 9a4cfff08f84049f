#!/usr/bin/env python3
"""Opens an mfa-enforcer HTML report in a real headless browser (Debian's chromium, through
chromium-driver and selenium) and says what it saw, for tests/tests/html_report.rs.

    check_html.py REPORT.html SCREENSHOT.png

Writes one JSON object on standard output:
    {"console_errors": [...],          browser console messages of level SEVERE
     "resources": n,                    resources the page fetched (Resource Timing API)
     "alert": bool,                     whether any alert() fired
     "scripts": n,                      <script> elements in the document
     "totals": {id: value},             the at-a-glance numbers, as shown
     "statuses": {status: count},       the users-by-status chart, as drawn
     "texts": [...],                    the text of every ranking and unreachable row
     "rows": n, "shown_after_search": "...", "first_after_sort": "..."}
and saves a screenshot.
"""
import json
import sys

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

page, screenshot = sys.argv[1], sys.argv[2]
options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--window-size=1400,1000"):
    options.add_argument(flag)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    driver.get("file://" + page)
    alert = True
    try:
        driver.switch_to.alert
    except NoAlertPresentException:
        alert = False
    result = {
        "alert": alert,
        "resources": driver.execute_script("return performance.getEntriesByType('resource').length"),
        "scripts": len(driver.find_elements(By.TAG_NAME, "script")),
        "totals": {e.get_attribute("id")[len("total-"):]: int(e.get_attribute("data-value"))
                   for e in driver.find_elements(By.CSS_SELECTOR, ".total")},
        "statuses": {e.get_attribute("data-status"): int(e.get_attribute("data-count"))
                     for e in driver.find_elements(By.CSS_SELECTOR, "g[data-status]")},
        "texts": [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#ranking tbody tr, #unreachable tbody tr")],
        "rows": len(driver.find_elements(By.CSS_SELECTOR, "#rows tbody tr")),
    }
    driver.save_screenshot(screenshot)
    search = driver.find_element(By.ID, "search")
    search.send_keys("non_compliant")
    result["shown_after_search"] = driver.find_element(By.ID, "shown").text
    search.clear()
    search.send_keys(" ")
    search.clear()
    driver.find_element(By.CSS_SELECTOR, "#rows thead th:nth-child(3)").click()
    result["first_after_sort"] = driver.find_element(By.CSS_SELECTOR, "#rows tbody tr").text
    result["console_errors"] = [entry["message"] for entry in driver.get_log("browser")
                                if entry["level"] == "SEVERE"]
finally:
    driver.quit()
json.dump(result, sys.stdout)
