"""What the web page tests share: Debian's Chromium through Playwright (never a downloaded
browser), a page that records every request it makes and checks them at the end, and
small helpers for the API behind it."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    expect,
    sync_playwright,
)

from testkit.services import ApiServer

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "samples"
FACE_IMAGE = SAMPLES / "studio" / "astronaut_camera.jpg"
LABEL_IMAGE = SAMPLES / "marketplace" / "coffee_shipping_label.png"
SMALL_IMAGE = SAMPLES / "receipts" / "receipt.webp"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
DOCS_SCREENSHOT = ROOT / "docs" / "images" / "web-page.png"

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
#: Seconds a job may take from upload to done on two shared cores.
JOB_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/system-deps.sh (Debian's chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class WebPage:
    """A page in a fresh browser context that records every request it makes."""

    page: Page
    origin: str
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def sign_in(self, key: str) -> None:
        self.page.goto(f"{self.origin}/")
        self.page.get_by_label("API key").fill(key)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.locator("#workspace")).to_be_visible()

    def item(self, name: str) -> Locator:
        return self.page.locator(".item", has=self.page.locator(".item-name", has_text=name))

    def shot(self, name: str, *, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def note_policy_violation(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.problems.append(message.text)

    def foreign_requests(self) -> list[str]:
        own = (f"{self.origin}/", f"blob:{self.origin}/", "data:")
        return [url for url in self.requests if not url.startswith(own)]


@pytest.fixture
def open_page(browser: Browser, api_server: ApiServer) -> Iterator[Callable[..., WebPage]]:
    """``open_page(viewport)``: a new context and page; checks what it did at the end."""
    opened: list[WebPage] = []

    def open_one(viewport: dict[str, int] = LAPTOP) -> WebPage:
        context = browser.new_context(viewport=viewport, accept_downloads=True)
        page = context.new_page()
        web = WebPage(page, api_server.url)
        page.on("request", lambda request: web.requests.append(request.url))
        page.on("pageerror", lambda error: web.problems.append(f"page error: {error}"))
        page.on("console", web.note_policy_violation)
        opened.append(web)
        return web

    yield open_one
    for web in opened:
        cookies = web.page.context.cookies()
        web.page.context.close()
        assert web.requests, "the page made no request at all"
        assert web.foreign_requests() == []
        assert [url for url in web.requests if "rdk_" in url] == []  # the key is never in a URL
        assert cookies == []
        assert web.problems == []


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def result_bytes(server: ApiServer, key: str, job_id: str) -> bytes:
    answer = httpx.get(f"{server.url}/v1/jobs/{job_id}/result", headers=bearer(key))
    assert answer.status_code == 200, answer.text
    return answer.content


def uploaded_ids(server: ApiServer, key: str) -> set[str]:
    listing = httpx.get(f"{server.url}/v1/uploads", headers=bearer(key)).json()
    return {job["id"] for job in listing["items"]}


def drop_file(web: WebPage, name: str, content: bytes, media_type: str) -> None:
    """Drag and drop one file onto the drop zone, as a person would from a file manager."""
    web.page.evaluate(
        """([name, data, type]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type }));
            const zone = document.querySelector("#drop-zone");
            for (const kind of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(new DragEvent(kind, { bubbles: true, cancelable: true,
                                                        dataTransfer: transfer }));
            }
        }""",
        [name, base64.b64encode(content).decode(), media_type],
    )


def assert_focus_visible(page: Page, selector: str) -> None:
    outline = page.eval_on_selector(
        selector,
        "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth]; }",
    )
    assert outline[0] != "none" and outline[1] not in {"0px", ""}, (selector, outline)


def tab_to(page: Page, element_id: str, presses: int = 12) -> None:
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} cannot be reached with Tab")


def wait_for_images(page: Page) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('.item[data-state=done] .result-image')]"
        ".every(image => image.complete && image.naturalWidth > 0)"
    )
