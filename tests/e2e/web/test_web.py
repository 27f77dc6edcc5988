"""The web page in a real browser: Debian's Chromium driven by Playwright, against
``redactor serve`` with real Redis and real workers (the HTTP tests' fixtures).

Screenshots of the main states go to ``test-artifacts/screenshots/``. With
``REDACTOR_UPDATE_DOCS_SCREENSHOT=1`` the review screenshot is also written to
``docs/images/web-page.png`` (the README's picture), from the bundled samples only.
Playwright never downloads a browser here: it launches ``/usr/bin/chromium``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import (
    FileChooser,
    Page,
    Route,
    expect,
)

from testkit.services import ApiServer
from tests.e2e.web.kit import (
    FACE_IMAGE,
    JOB_TIMEOUT_MS,
    PHONE,
    SMALL_IMAGE,
    WebPage,
    assert_focus_visible,
    bearer,
    drop_file,
    tab_to,
    wait_for_images,
)

pytestmark = [pytest.mark.redis, pytest.mark.slow]


# --- signing in -------------------------------------------------------------------


def test_given_wrong_key_then_a_clear_message_and_nothing_kept(
    open_page: Callable[..., WebPage],
) -> None:
    web = open_page()
    web.page.goto(f"{web.origin}/")
    web.shot("01-sign-in.png")
    web.page.get_by_label("API key").fill("rdk_" + "x" * 43)
    web.page.get_by_role("button", name="Sign in").click()
    error = web.page.get_by_role("alert")
    expect(error).to_contain_text("API key was not accepted")
    expect(web.page.locator("#workspace")).to_be_hidden()
    assert web.page.evaluate("sessionStorage.length") == 0
    web.shot("02-wrong-key.png")


def test_given_keyboard_only_then_key_field_button_and_file_picker_show_focus(
    open_page: Callable[..., WebPage], api_server: ApiServer
) -> None:
    web = open_page()
    key = api_server.create_key("web-keys").secret
    # Listen before anything happens: Playwright turns on file-chooser interception when
    # the first listener is added, without waiting for the browser to confirm, so a
    # listener added just before the key press can lose the race (seen once in CI).
    choosers: list[FileChooser] = []
    web.page.on("filechooser", lambda chooser: choosers.append(chooser))
    web.page.goto(f"{web.origin}/")
    tab_to(web.page, "api-key")
    assert_focus_visible(web.page, "#api-key")
    web.page.keyboard.type(key)
    tab_to(web.page, "sign-in-button")
    assert_focus_visible(web.page, "#sign-in-button")
    web.page.keyboard.press("Enter")
    expect(web.page.locator("#workspace")).to_be_visible()
    web.page.evaluate("document.activeElement.blur()")
    tab_to(web.page, "file-input")
    assert_focus_visible(web.page, "label[for=file-input]")
    web.shot("03-keyboard-focus.png", full_page=False)
    web.page.keyboard.press("Enter")
    for _ in range(100):
        if choosers:
            break
        web.page.wait_for_timeout(100)
    assert len(choosers) == 1, "Enter on the focused picker did not open the file chooser"
    assert choosers[0].is_multiple()
    assert web.page.evaluate("sessionStorage.getItem('redactor.apiKey')") == key


# --- a network error during upload, then retry -------------------------------------------


@pytest.mark.timeout(180)
def test_given_network_error_during_upload_then_retry_button_sends_it_again(
    open_page: Callable[..., WebPage], api_server: ApiServer
) -> None:
    web = open_page()
    web.sign_in(api_server.create_key("web-retry").secret)
    posts: list[str] = []

    def fail_first_upload(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        posts.append(route.request.url)
        if len(posts) == 1:
            route.abort("failed")
        else:
            route.continue_()

    web.page.route("**/v1/uploads", fail_first_upload)
    web.page.locator("#file-input").set_input_files(str(SMALL_IMAGE))
    item = web.item(SMALL_IMAGE.name)
    expect(item).to_have_attribute("data-state", "upload-error")
    expect(item.locator(".message")).to_contain_text("network")
    retry = item.get_by_role("button", name=f"Retry uploading {SMALL_IMAGE.name}")
    expect(retry).to_be_visible()
    web.shot("09-upload-retry.png", full_page=False)
    retry.click()
    expect(item).to_have_attribute("data-state", "done", timeout=JOB_TIMEOUT_MS)
    expect(retry).to_be_hidden()
    assert len(posts) == 2


def test_given_file_that_is_no_image_then_refused_with_the_servers_reason(
    open_page: Callable[..., WebPage], api_server: ApiServer
) -> None:
    web = open_page()
    web.sign_in(api_server.create_key("web-refused").secret)
    drop_file(web, "notes.jpg", b"just some text, not a photo\n" * 10, "image/jpeg")
    item = web.item("notes.jpg")
    expect(item).to_have_attribute("data-state", "rejected")
    expect(item.locator(".message")).to_contain_text("Refused by the server: file 1:")
    expect(item.get_by_role("button", name="Retry uploading notes.jpg")).to_be_hidden()
    item.get_by_role("button", name="Remove notes.jpg").click()  # nothing stored: no question
    expect(item).to_have_count(0)


# --- a phone ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def earlier_upload(api_server: ApiServer) -> str:
    """A key whose tenant has one finished upload (faces only), made without the page."""
    key = api_server.create_key("web-phone").secret
    with httpx.Client(base_url=api_server.url, headers=bearer(key), timeout=60) as http:
        accepted = http.post(
            "/v1/uploads",
            files={"files": ("photo.jpg", FACE_IMAGE.read_bytes())},
            data={"text": "off", "codes": "false", "original_retention": "0"},
        )
        assert accepted.status_code == 202, accepted.text
        job_link = accepted.json()["jobs"][0]["links"]["job"]
        deadline = time.monotonic() + JOB_TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            if http.get(job_link, params={"wait": 20}).json()["state"] == "done":
                return key
    raise AssertionError("the phone test's upload did not finish")


@pytest.mark.timeout(180)
def test_given_phone_width_then_no_horizontal_scrolling(
    open_page: Callable[..., WebPage], earlier_upload: str
) -> None:
    web = open_page(PHONE)
    web.page.goto(f"{web.origin}/")
    _assert_no_horizontal_scroll(web.page)
    web.shot("10-phone-sign-in.png")
    web.sign_in(earlier_upload)
    web.page.get_by_role("button", name="Show earlier uploads").click()
    item = web.page.locator(".item")
    expect(item).to_have_attribute("data-state", "done", timeout=JOB_TIMEOUT_MS)
    wait_for_images(web.page)
    expect(item.locator(".legend-entry[data-kind=face]")).to_be_visible()
    expect(item.locator(".original-deadline")).to_have_text("deleted")
    _assert_no_horizontal_scroll(web.page)
    web.shot("11-phone.png")


def _assert_no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths


# --- what the server sends with the page ------------------------------------------------


def test_given_page_then_strict_content_security_policy(api_server: ApiServer) -> None:
    for path in ("/", "/static/app.js", "/static/app.css"):
        answer = httpx.get(f"{api_server.url}{path}")
        assert answer.status_code == 200
        policy = answer.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "img-src 'self' blob: data:" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    page = httpx.get(f"{api_server.url}/").text
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts and all("src=" in tag for tag in scripts)  # no inline script
    assert re.search(r"\son[a-z]+\s*=", page) is None  # no inline event handlers
