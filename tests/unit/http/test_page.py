"""The web page's routes in-process: what is served, with which headers, and what is not.

The page itself is exercised in a real browser by tests/e2e/web/.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import get_args

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from redactor.http.routes.page import (
    CONTENT_SECURITY_POLICY,
    STATIC_DIR,
    option_lists,
    page_router,
    render_page,
)
from redactor.options import IccMode, TextPolicy
from redactor.styles import STYLE_FAMILIES, STYLES
from tests.unit.http.conftest import bearer, upload


@pytest.fixture
def pages() -> TestClient:
    """Only the page router: these tests need no Redis."""
    app = FastAPI()
    app.include_router(page_router())
    return TestClient(app)


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/", "text/html"),
        ("/static/app.js", "text/javascript"),
        ("/static/api.js", "text/javascript"),
        ("/static/app.css", "text/css"),
        ("/static/icon.svg", "image/svg+xml"),
    ],
)
def test_given_page_file_then_served_with_strict_policy(
    pages: TestClient, path: str, media_type: str
) -> None:
    answer = pages.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(media_type)
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] == "no-referrer"


def test_every_file_the_page_and_its_modules_name_is_served(pages: TestClient) -> None:
    """The page's links and scripts, and every module's imports, resolve to served files
    with the type the browser needs (a module served as anything else is not run)."""
    named = set(re.findall(r'(?:href|src)="(/static/[\w.-]+)"', pages.get("/").text))
    for module in STATIC_DIR.glob("*.js"):
        imports = re.findall(r'^import .* from "\./([\w.-]+)";$', module.read_text(), re.M)
        named.update(f"/static/{name}" for name in imports)
    assert {"/static/app.js", "/static/findings.js", "/static/findings.css"} <= named
    types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    for path in sorted(named):
        answer = pages.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith(types[Path(path).suffix]), path


def test_given_policy_then_only_own_origin_and_no_inline_code() -> None:
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["img-src"] == "'self' blob: data:"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(
    "path",
    [
        "/static/missing.js",
        "/static/..%2Fapp.py",
        "/static/%2e%2e%2Froutes%2Fpage.py",
        "/static/",
        "/index.html",
    ],
)
def test_given_other_path_then_404_never_a_file(pages: TestClient, path: str) -> None:
    answer = pages.get(path)
    assert answer.status_code == 404
    assert b"import" not in answer.content


#: An absolute or protocol-relative address, a CSS url() or @import: nothing may leave.
EXTERNAL = re.compile(r'https?://(?!www\.w3\.org/2000/svg")|(?:src|href)="//|url\(|@import')


def test_given_static_files_then_none_refers_to_another_origin() -> None:
    names = {path.name for path in STATIC_DIR.iterdir()}
    assert {"index.html", "app.js", "app.css"} <= names
    for path in STATIC_DIR.iterdir():
        assert EXTERNAL.search(path.read_text()) is None, path.name


def test_given_page_html_then_no_inline_script_or_style() -> None:
    html = (STATIC_DIR / "index.html").read_text()
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", html))
    assert "<style" not in html and " style=" not in html
    assert re.search(r"\son[a-z]+\s*=", html) is None


def test_given_other_folder_then_only_known_types_are_served(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "secret.py").write_text("KEY = 1")
    app = FastAPI()
    app.include_router(page_router(tmp_path))
    client = TestClient(app)
    assert client.get("/").status_code == 200
    assert client.get("/static/secret.py").status_code == 404


def test_given_full_app_then_page_is_not_in_the_api_schema(api: TestClient) -> None:
    assert api.get("/").status_code == 200
    paths = api.get("/openapi.json").json()["paths"]
    assert "/" not in paths and not any(path.startswith("/static") for path in paths)


def test_given_job_then_deletion_times_are_published(
    api: TestClient, key_for: Callable[[str], str]
) -> None:
    """The page shows "deleted" only when the server says so (null while kept)."""
    secret = key_for("page")
    job_id = upload(api, secret).json()["jobs"][0]["id"]
    job = api.get(f"/v1/jobs/{job_id}", headers=bearer(secret)).json()
    assert job["original_deleted_at"] is None and job["result_deleted_at"] is None
    listed = api.get("/v1/uploads", headers=bearer(secret)).json()["items"][0]
    assert set(listed) == set(job)


def _options_of(page: str, select_id: str) -> list[str]:
    select = re.search(f'<select id="{select_id}"[^>]*>(.*?)</select>', page, re.DOTALL)
    assert select is not None
    return re.findall(r'<option value="([^"]*)">', select.group(1))


def test_given_page_then_its_option_lists_are_the_registries(pages: TestClient) -> None:
    page = pages.get("/").text
    assert _options_of(page, "opt-text") == ["", *get_args(TextPolicy)]
    assert _options_of(page, "opt-icc") == ["", *get_args(IccMode)]
    for family in STYLE_FAMILIES:
        assert _options_of(page, f"opt-style-{family}") == ["", *STYLES]
    assert re.findall(r'data-style-kind="(\w+)"', page) == list(STYLE_FAMILIES)
    assert "<!-- options:" not in page
    labels = [label for values in option_lists().values() for _, label in values]
    assert all(label and "<" not in label for label in labels)


def test_given_unknown_option_list_in_the_page_then_rendering_fails_loudly() -> None:
    with pytest.raises(KeyError):
        render_page("<select>\n  <!-- options: colours -->\n</select>")
