"""The whole review in a real browser: upload, watch, overlays, download and delete,
against ``redactor serve`` with real Redis and real workers (see ``test_web.py``)."""

from __future__ import annotations

import io
import os
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import (
    Locator,
    Page,
    expect,
)

from testkit.services import ApiServer
from tests.e2e.web.kit import (
    DOCS_SCREENSHOT,
    FACE_IMAGE,
    JOB_TIMEOUT_MS,
    LABEL_IMAGE,
    WebPage,
    bearer,
    drop_file,
    result_bytes,
    uploaded_ids,
    wait_for_images,
)

pytestmark = [pytest.mark.redis, pytest.mark.slow]


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
    drop_file(web, "broken_scan.jpg", FACE_IMAGE.read_bytes()[:12_000], "image/jpeg")

    face, label, broken = (web.item(n) for n in (FACE_IMAGE.name, LABEL_IMAGE.name, "broken"))
    for item, state in ((face, "done"), (label, "done"), (broken, "failed")):
        expect(item).to_have_attribute("data-state", state, timeout=JOB_TIMEOUT_MS)
    blob_url = re.compile(f"^blob:{re.escape(web.origin)}/")
    expect(face.locator(".result-image")).to_have_attribute("src", blob_url)
    wait_for_images(page)
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
    job_ids = uploaded_ids(api_server, key)
    results = {job_id: result_bytes(api_server, key, job_id) for job_id in _done(web)}
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
    answer = httpx.get(f"{server.url}/v1/jobs/{job_id}/result", headers=bearer(key))
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
    answer = httpx.get(f"{server.url}/v1/jobs/{job_id}", headers=bearer(key))
    assert answer.status_code == 200
