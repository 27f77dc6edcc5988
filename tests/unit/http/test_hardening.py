"""What an independent probe of the API found (issue 14), each door closed.

``/docs`` is off unless enabled and then served from the package under a strict CSP;
no answer is ever a redirect built from the client's ``Host``; a file sent in a field
other than ``files`` is a 422 naming the field; 422 answers never echo a long value.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from redactor.http.routes.apidocs import CONTENT_SECURITY_POLICY, DOCS_DIR
from redactor.http.validation import ECHO_LIMIT
from tests.unit.http.conftest import bearer, png_bytes

pytestmark = pytest.mark.redis

KeyFor = Callable[[str], str]
MakeApi = Callable[..., TestClient]
LONG = "A" * 5000


# --- /docs ---


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/swagger-ui-bundle.js", "/docs/docs.js"])
def test_given_default_settings_then_no_docs_viewer(api: TestClient, path: str) -> None:
    assert api.get(path).status_code == 404
    assert api.get("/openapi.json").status_code == 200


def test_given_docs_enabled_then_swagger_ui_comes_from_this_origin_under_a_csp(
    make_api: MakeApi,
) -> None:
    api = make_api(api_docs=True)
    page = api.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY
    assert "unsafe" not in CONTENT_SECURITY_POLICY and "http" not in CONTENT_SECURITY_POLICY
    assert "//" not in page.text, "the page refers to another origin"
    assert re.search(r"<script\b(?![^>]*\bsrc=)[^>]*>", page.text) is None  # no inline script
    assets = re.findall(r'(?:src|href)="(/docs/[^"]+)"', page.text)
    assert sorted(assets) == ["/docs/docs.js", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"]
    assert api.get("/static/icon.svg").status_code == 200
    for asset in assets:
        answer = api.get(asset)
        assert answer.status_code == 200, asset
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert answer.content == (DOCS_DIR / asset.rsplit("/", 1)[1]).read_bytes()
    assert "validatorUrl: null" in api.get("/docs/docs.js").text
    for path in ("/redoc", "/docs/README.md", "/docs/LICENSE", "/docs/..%2fapp.js"):
        assert api.get(path).status_code == 404, path


def test_the_shipped_swagger_ui_files_match_their_recorded_checksums() -> None:
    recorded = dict(
        reversed(line.split()) for line in re.findall(r"^[0-9a-f]{64}  \S+$", _readme(), re.M)
    )
    assert set(recorded) == {"swagger-ui-bundle.js", "swagger-ui.css"}
    for name, digest in recorded.items():
        assert hashlib.sha256((DOCS_DIR / name).read_bytes()).hexdigest() == digest, name


def _readme() -> str:
    return (DOCS_DIR / "README.md").read_text()


# --- no redirect built from Host ---


@pytest.mark.parametrize(
    "path",
    [
        "/v1/uploads/",
        "/v1/jobs/AAAAAAAAAAAAAAAAAAAAAA/",
        "/v1/jobs/AAAAAAAAAAAAAAAAAAAAAA/result/",
        "/healthz/",
        "/readyz/",
        "/metrics/",
        "/static/app.js/",
        "/docs/",
        "//evil.example/",
    ],
)
@pytest.mark.parametrize("with_key", [False, True], ids=["anonymous", "key"])
def test_given_hostile_host_and_trailing_slash_then_never_a_redirect(
    make_api: MakeApi, key_for: KeyFor, path: str, with_key: bool
) -> None:
    api = make_api(api_docs=True)
    headers = {"Host": "evil.example", **(bearer(key_for("acme")) if with_key else {})}
    for method in ("GET", "POST", "DELETE"):
        answer = api.request(method, path, headers=headers, follow_redirects=False)
        assert not 300 <= answer.status_code < 400, (method, path, answer.status_code)
        assert "location" not in answer.headers
        assert "evil.example" not in answer.text


# --- a file in the wrong field ---


@pytest.mark.parametrize(
    ("part", "field"),
    [
        (("other", ("photo.png", png_bytes(), "image/png")), "other"),
        (("file", ("photo.png", png_bytes(), "application/octet-stream")), "file"),
        (("image", (None, png_bytes(), "image/png")), "image"),  # typed, no file name
    ],
    ids=["named-file", "octet-stream", "no-filename"],
)
def test_given_a_file_in_another_field_then_422_naming_files(
    api: TestClient, key_for: KeyFor, part: tuple[str, tuple[object, ...]], field: str
) -> None:
    answer = api.post("/v1/uploads", headers=bearer(key_for("acme")), files=[part])
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["detail"]
    assert error["loc"] == ["body", field]
    assert "'files'" in error["msg"] and f"'{field}'" in error["msg"]
    assert "photo.png" not in answer.text  # the part's file name is never read


def test_given_a_file_in_a_field_with_a_long_name_then_the_name_is_cut(
    api: TestClient, key_for: KeyFor
) -> None:
    name = "x" * 900
    part = (name, ("photo.png", png_bytes(), "image/png"))
    answer = api.post("/v1/uploads", headers=bearer(key_for("acme")), files=[part])
    assert answer.status_code == 422
    assert name not in answer.text and len(answer.content) < 600


def test_given_a_text_option_sent_as_text_plain_then_it_is_an_option(
    api: TestClient, key_for: KeyFor
) -> None:
    parts = [
        ("files", ("photo.png", png_bytes(), "image/png")),
        ("text", (None, b"off", "text/plain; charset=utf-8")),
        ("codes", (None, b"false")),
    ]
    answer = api.post("/v1/uploads", headers=bearer(key_for("acme")), files=parts)
    assert answer.status_code == 202, answer.text


# --- 422 answers echo at most a short value ---


def _long_requests(secret: str) -> list[tuple[str, str, dict[str, object]]]:
    auth = bearer(secret)
    return [
        ("GET", f"/v1/jobs/{LONG}", {"headers": auth}),
        ("GET", f"/v1/jobs/{LONG}/result", {"headers": auth}),
        ("DELETE", f"/v1/uploads/{LONG}", {"headers": auth}),
        ("GET", "/v1/uploads", {"headers": auth, "params": {"limit": LONG}}),
        ("GET", "/v1/uploads", {"headers": auth, "params": {"cursor": LONG}}),
        (
            "POST",
            "/v1/uploads",
            {
                "headers": auth,
                "files": [("files", ("p.png", png_bytes(), "image/png"))],
                "data": {"styles": "face=" + "q" * 1000},
            },
        ),
        (
            "POST",
            "/v1/uploads",
            {
                "headers": auth,
                "files": [("files", ("p.png", png_bytes(), "image/png"))],
                "data": {"b" * 900: "1"},
            },
        ),
    ]


def test_given_long_bad_values_then_422_echoes_at_most_a_clipped_value(
    api: TestClient, key_for: KeyFor
) -> None:
    for method, path, options in _long_requests(key_for("acme")):
        answer = api.request(method, path, **options)  # type: ignore[arg-type]
        assert answer.status_code == 422, (method, path, answer.status_code)
        body = answer.json()
        assert len(answer.content) < 1500, (path, len(answer.content))
        for error in body["detail"]:
            assert set(error) <= {"loc", "msg", "type", "input"}, error
            assert all(len(str(part)) <= ECHO_LIMIT + 1 for part in error["loc"]), error
            if isinstance(error.get("input"), str):
                assert len(error["input"]) <= ECHO_LIMIT + 1
        assert "A" * (ECHO_LIMIT + 1) not in json.dumps(body)


def test_given_a_short_bad_value_then_422_still_shows_it_whole(
    api: TestClient, key_for: KeyFor
) -> None:
    answer = api.get("/v1/uploads", params={"limit": "soon"}, headers=bearer(key_for("a")))
    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert error["loc"] == ["query", "limit"] and error["input"] == "soon"
