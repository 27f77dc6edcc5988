"""The web page in a real browser: Debian's Chromium driven by Playwright, against
``redactor serve`` with real Redis and real workers (the HTTP tests' fixtures).

Screenshots of the main states go to ``test-artifacts/screenshots/``. With
``REDACTOR_UPDATE_DOCS_SCREENSHOT=1`` the review screenshot is also written to
``docs/images/web-page.png`` (the README's picture), from the bundled samples only.
Playwright never downloads a browser here: it launches ``/usr/bin/chromium``.
"""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    FileChooser,
    Locator,
    Page,
    Route,
    expect,
    sync_playwright,
)

from testkit.services import ApiServer
from tests.e2e import http_fixtures
from tests.integration import conftest as queue_fixtures

pytestmark = [pytest.mark.redis, pytest.mark.slow]

# The queue tests' Redis and workers, and the API over them; pytest finds them by name.
redis_server = queue_fixtures.redis_server
queue_env = queue_fixtures.queue_env
api_server = http_fixtures.api_server

ROOT = Path(__file__).resolve().parents[2]
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


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _result_bytes(server: ApiServer, key: str, job_id: str) -> bytes:
    answer = httpx.get(f"{server.url}/v1/jobs/{job_id}/result", headers=_bearer(key))
    assert answer.status_code == 200, answer.text
    return answer.content


def _job_ids(server: ApiServer, key: str) -> set[str]:
    listing = httpx.get(f"{server.url}/v1/uploads", headers=_bearer(key)).json()
    return {job["id"] for job in listing["items"]}


def _drop_file(web: WebPage, name: str, content: bytes, media_type: str) -> None:
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


def _assert_focus_visible(page: Page, selector: str) -> None:
    outline = page.eval_on_selector(
        selector,
        "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth]; }",
    )
    assert outline[0] != "none" and outline[1] not in {"0px", ""}, (selector, outline)


def _tab_to(page: Page, element_id: str, presses: int = 12) -> None:
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} cannot be reached with Tab")


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
    _tab_to(web.page, "api-key")
    _assert_focus_visible(web.page, "#api-key")
    web.page.keyboard.type(key)
    _tab_to(web.page, "sign-in-button")
    _assert_focus_visible(web.page, "#sign-in-button")
    web.page.keyboard.press("Enter")
    expect(web.page.locator("#workspace")).to_be_visible()
    web.page.evaluate("document.activeElement.blur()")
    _tab_to(web.page, "file-input")
    _assert_focus_visible(web.page, "label[for=file-input]")
    web.shot("03-keyboard-focus.png", full_page=False)
    web.page.keyboard.press("Enter")
    for _ in range(100):
        if choosers:
            break
        web.page.wait_for_timeout(100)
    assert len(choosers) == 1, "Enter on the focused picker did not open the file chooser"
    assert choosers[0].is_multiple()
    assert web.page.evaluate("sessionStorage.getItem('redactor.apiKey')") == key


# --- the whole review: upload, watch, overlays, download, delete ----------------------


@pytest.mark.timeout(240)
def test_given_three_images_then_two_redacted_with_findings_and_one_failed_with_reason(
    open_page: Callable[..., WebPage], api_server: ApiServer
) -> None:
    key = api_server.create_key("web-review").secret
    web = open_page()
    page = web.page
    page.add_init_script(RECORD_UPLOAD_FORMS)
    web.sign_in(key)
    page.get_by_text("Upload options").click()
    page.get_by_label("Text to redact").select_option("pii")
    page.get_by_label("Barcodes and QR codes").select_option("false")
    page.get_by_label("Faces").select_option("pixelate")
    page.get_by_label("Colour profile").select_option("drop")

    _upload_slowly(web, [FACE_IMAGE, LABEL_IMAGE])
    _drop_file(web, "broken_scan.jpg", FACE_IMAGE.read_bytes()[:12_000], "image/jpeg")

    face, label, broken = (web.item(n) for n in (FACE_IMAGE.name, LABEL_IMAGE.name, "broken"))
    for item, state in ((face, "done"), (label, "done"), (broken, "failed")):
        expect(item).to_have_attribute("data-state", state, timeout=JOB_TIMEOUT_MS)
    blob_url = re.compile(f"^blob:{re.escape(web.origin)}/")
    expect(face.locator(".result-image")).to_have_attribute("src", blob_url)
    _wait_for_images(page)
    _assert_findings(face, label)
    expect(broken.locator(".message")).to_have_text(re.compile(r"^Not redacted: .+ \(\w+\)$"))
    assert broken.locator(".result-image").get_attribute("src") is None  # no image at all
    expect(face.locator(".original-deadline")).to_contain_text("deleted")
    expect(face.locator(".result-deadline")).to_contain_text("expires in")
    page.locator("#options-panel summary").click()  # fold the options for the picture
    path = web.shot("05-review.png")
    if os.environ.get("REDACTOR_UPDATE_DOCS_SCREENSHOT") == "1":
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOT)

    _assert_options_sent_and_names_kept(page)
    job_ids = _job_ids(api_server, key)
    results = {job_id: _result_bytes(api_server, key, job_id) for job_id in _done(web)}
    assert len(job_ids) == 3 and len(results) == 2
    _enlarge(web, label)
    _download_one(web, face, results)
    _download_selected(web, results)
    _toggle_findings(face)
    _delete(web, face, api_server, key)
    _cancel_delete(web, label, api_server, key)


#: Records each form the page sends with XMLHttpRequest: field names and values, and
#: for a file the name it is sent under (multipart bodies with files are not visible to
#: Playwright's request events).
RECORD_UPLOAD_FORMS = """
window.sentForms = [];
const send = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.send = function (body) {
    if (body instanceof FormData) {
        window.sentForms.push([...body.entries()].map(
            ([name, value]) => [name, typeof value === "string" ? value : "file:" + value.name]));
    }
    return send.call(this, body);
};
"""


def _assert_options_sent_and_names_kept(page: Page) -> None:
    """One request per file, with the chosen options; the file's name stays in the browser."""
    forms = page.evaluate("window.sentForms")
    assert len(forms) == 3
    for form in forms:
        assert dict(form) == {
            "text": "pii",
            "codes": "false",
            "icc": "drop",
            "styles": "face=pixelate",
            "files": "file:image",
        }


def _upload_slowly(web: WebPage, paths: list[Path]) -> None:
    """Pick files with the upload throttled, so progress is seen (and photographed)."""
    session = web.page.context.new_cdp_session(web.page)
    session.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 300_000},
    )
    web.page.locator("#file-input").set_input_files([str(path) for path in paths])
    progress = web.item(LABEL_IMAGE.name).locator("progress")
    web.page.wait_for_function(
        "() => [...document.querySelectorAll('.item progress')].some(p => p.value > 0)"
    )
    expect(progress).to_be_visible()
    web.shot("04-uploading.png")
    session.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    session.detach()


def _wait_for_images(page: Page) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('.item[data-state=done] .result-image')]"
        ".every(image => image.complete && image.naturalWidth > 0)"
    )


def _assert_findings(face: Locator, label: Locator) -> None:
    """Boxes by kind over the images, counts by kind in the legends."""
    assert face.locator(".overlay .box[data-kind=face]").count() >= 1
    expect(face.locator(".legend-entry[data-kind=face] .legend-count")).to_have_text(
        re.compile(r"^[1-9]\d*$")
    )
    pii_boxes = label.locator(".overlay .box[data-kind^='pii.']")
    assert pii_boxes.count() >= 3
    kinds = set(label.locator(".legend-entry").evaluate_all("es => es.map(e => e.dataset.kind)"))
    assert {"pii.email", "pii.phone"} <= kinds, kinds
    colours = {
        box.evaluate("e => getComputedStyle(e).borderTopColor")
        for box in (face.locator(".box").first, label.locator(".box[data-kind='pii.email']"))
    }
    assert len(colours) == 2  # a face and an email do not look alike
    image_box = face.locator(".result-image").bounding_box()
    first_box = face.locator(".box").first.bounding_box()
    assert image_box is not None and first_box is not None
    assert image_box["x"] <= first_box["x"] <= image_box["x"] + image_box["width"]
    assert image_box["y"] <= first_box["y"] <= image_box["y"] + image_box["height"]


def _done(web: WebPage) -> list[str]:
    """Job ids of the items shown done."""
    ids: list[str] = web.page.evaluate(
        "() => [...document.querySelectorAll('.item[data-state=done]')].map(e => e.dataset.jobId)"
    )
    return ids


def _enlarge(web: WebPage, label: Locator) -> None:
    label.get_by_role("button", name=f"Enlarge {LABEL_IMAGE.name}").click()
    viewer = web.page.get_by_role("dialog")
    expect(viewer).to_contain_text(LABEL_IMAGE.name)
    expect(viewer.locator(".box-tag", has_text="Email")).to_be_visible()
    web.shot("06-large-view.png", full_page=False)
    web.page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()


def _download_one(web: WebPage, face: Locator, results: dict[str, bytes]) -> None:
    with web.page.expect_download() as info:
        face.get_by_role("link", name="Download").click()
    download = info.value
    assert download.suggested_filename == "astronaut_camera-redacted.jpg"
    content = Path(download.path()).read_bytes()
    assert content == results[face.get_attribute("data-job-id") or ""]
    assert content != FACE_IMAGE.read_bytes()


def _download_selected(web: WebPage, results: dict[str, bytes]) -> None:
    web.page.get_by_role("button", name="Select all done").click()
    with web.page.expect_download() as info:
        web.page.get_by_role("button", name="Download selected (2)").click()
    download = info.value
    assert download.suggested_filename == "redacted-images.zip"
    with zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes())) as archive:
        assert archive.testzip() is None  # every CRC matches
        assert sorted(archive.namelist()) == [
            "astronaut_camera-redacted.jpg",
            "coffee_shipping_label-redacted.png",
        ]
        assert sorted(archive.read(name) for name in archive.namelist()) == sorted(results.values())


def _toggle_findings(face: Locator) -> None:
    toggle = face.get_by_label("Show findings")
    toggle.uncheck()
    expect(face.locator(".overlay")).to_be_hidden()
    toggle.check()
    expect(face.locator(".overlay")).to_be_visible()


def _delete(web: WebPage, face: Locator, server: ApiServer, key: str) -> None:
    job_id = face.get_attribute("data-job-id")
    blob_url = face.locator(".result-image").get_attribute("src")
    face.get_by_role("button", name=f"Delete {FACE_IMAGE.name}").click()
    dialog = web.page.get_by_role("dialog")
    expect(dialog).to_contain_text("cannot be undone")
    web.shot("07-confirm-delete.png", full_page=False)
    dialog.get_by_role("button", name="Delete").click()
    expect(face).to_have_count(0)
    expect(web.page.get_by_role("status")).to_contain_text("deleted")
    answer = httpx.get(f"{server.url}/v1/jobs/{job_id}/result", headers=_bearer(key))
    assert answer.status_code == 404
    revoked = web.page.evaluate(
        """url => new Promise((resolve) => {
            const image = new Image();
            image.onload = () => resolve("still there");
            image.onerror = () => resolve("revoked");
            image.src = url;
        })""",
        blob_url,
    )
    assert revoked == "revoked"
    web.shot("08-after-delete.png")


def _cancel_delete(web: WebPage, label: Locator, server: ApiServer, key: str) -> None:
    """Escape cancels, even right after a confirmed deletion."""
    label.get_by_role("button", name=f"Delete {LABEL_IMAGE.name}").click()
    expect(web.page.get_by_role("dialog")).to_be_visible()
    web.page.keyboard.press("Escape")
    expect(web.page.get_by_role("dialog")).to_be_hidden()
    expect(label).to_have_attribute("data-state", "done")
    job_id = label.get_attribute("data-job-id")
    answer = httpx.get(f"{server.url}/v1/jobs/{job_id}", headers=_bearer(key))
    assert answer.status_code == 200


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
    _drop_file(web, "notes.jpg", b"just some text, not a photo\n" * 10, "image/jpeg")
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
    with httpx.Client(base_url=api_server.url, headers=_bearer(key), timeout=60) as http:
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
    _wait_for_images(web.page)
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
