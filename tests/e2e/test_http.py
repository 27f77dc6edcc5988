"""End to end through the HTTP API: ``redactor serve`` on loopback, real Redis, real workers."""

from __future__ import annotations

import asyncio
import json
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import numpy as np
import pytest
import schemathesis
from PIL import Image

from bench.http_load import run_load
from redactor.http.logging import hash_address
from redactor.http.settings import DEV_IP_HASH_KEY
from testkit.services import MAX_BODY_BYTES, ApiServer, QueueEnv
from tests.e2e import http_fixtures
from tests.integration import conftest as queue_fixtures
from tests.support import decode_rgb, face_boxes, shared_image
from tests.unit import icc_cases

pytestmark = [pytest.mark.redis, pytest.mark.slow]

# The queue tests' Redis and workers, and the API over them; pytest finds them by name.
redis_server = queue_fixtures.redis_server
queue_env = queue_fixtures.queue_env
api_server = http_fixtures.api_server

PHOTO = "face_two_nikon_exif.jpg"
FACES_ONLY = {"text": "off", "codes": "false"}
MODEL_LIBRARIES = ("torch", "mediapipe", "easyocr", "onnxruntime", "rapidocr")
GIB = 1024**3


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.timeout(240)
def test_given_photo_then_upload_poll_download_erase_round_trip(
    api_server: ApiServer, queue_env: QueueEnv
) -> None:
    owner = _bearer(api_server.create_key("e2e-http").secret)
    stranger = _bearer(api_server.create_key("e2e-other").secret)
    original = shared_image(PHOTO).read_bytes()
    with httpx.Client(base_url=api_server.url, timeout=60) as http:
        accepted = http.post(
            "/v1/uploads", headers=owner, files={"files": (PHOTO, original)}, data=FACES_ONLY
        )
        assert accepted.status_code == 202, accepted.text
        links = accepted.json()["jobs"][0]["links"]
        job_id = accepted.json()["jobs"][0]["id"]

        job = _poll_until_finished(http, links["job"], owner)
        assert job["state"] == "done", job
        assert job["result_deadline"] and job["timestamps"]["done"]
        result = http.get(links["result"], headers=owner)
        assert result.status_code == 200
        assert result.headers["content-type"] == "image/jpeg"
        assert result.headers["cache-control"] == "no-store"
        report = http.get(links["report"], headers=owner).json()
        assert report["counts"]["face"] >= 2
        assert http.get(links["job"], headers=stranger).status_code == 404
        assert http.get(links["result"], headers=stranger).status_code == 404

        _assert_faces_redacted_and_no_metadata(original, result.content)

        assert http.delete(links["upload"], headers=owner).status_code == 204
        for link in (links["job"], links["result"], links["report"]):
            assert http.get(link, headers=owner).status_code == 404
    assert list((queue_env.root / "storage").rglob(f"*{job_id}*")) == []
    _assert_no_file_name_or_address_logged(api_server, PHOTO)


def _poll_until_finished(http: httpx.Client, link: str, headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
    for _ in range(6):
        job = http.get(link, headers=headers, params={"wait": 30}).json()
        if job["state"] in {"done", "failed"}:
            return job  # type: ignore[no-any-return]
    raise AssertionError(f"job still {job['state']}")


def _assert_faces_redacted_and_no_metadata(original: bytes, redacted: bytes) -> None:
    before, after = decode_rgb(original).astype(float), decode_rgb(redacted).astype(float)
    outside = np.ones(before.shape[:2], dtype=bool)
    for x0, y0, x1, y1 in face_boxes()[PHOTO]:
        inside = np.abs(before[y0:y1, x0:x1] - after[y0:y1, x0:x1]).mean()
        assert inside > 15, f"face at {(x0, y0, x1, y1)} barely changed ({inside:.1f})"
        outside[y0:y1, x0:x1] = False
    assert np.abs(before - after)[outside].mean() < 8
    with Image.open(shared_image(PHOTO)) as source:
        assert source.getexif()  # the upload had EXIF...
    from io import BytesIO

    with Image.open(BytesIO(redacted)) as image:
        assert not image.getexif() and "comment" not in image.info  # ...the result has none


@pytest.mark.timeout(240)
@pytest.mark.parametrize("mode", ["", "sanitise", "keep", "drop"])
def test_given_profiles_with_personal_data_then_http_results_carry_none_of_it(
    api_server: ApiServer, mode: str
) -> None:
    """Every container, each profile full of personal data, with ``icc`` as given (or the
    server's default, ``sanitise``, when the field is left out)."""
    owner = _bearer(api_server.create_key("e2e-icc").secret)
    uploads = [
        ("v2-srgb", "jpeg"),
        ("v4-mluc", "png"),
        ("private-2mb", "webp"),
        ("wide-gamut", "tiff"),
        ("cmyk", "jpeg"),
    ]
    fields = {**FACES_ONLY, **({"icc": mode} if mode else {})}
    with httpx.Client(base_url=api_server.url, timeout=60) as http:
        accepted = {}
        for name, image_format in uploads:
            data = icc_cases.image_with(icc_cases.PROFILES[name](), image_format)
            response = http.post(
                "/v1/uploads", headers=owner, files={"files": ("image", data)}, data=fields
            )
            assert response.status_code == 202, response.text
            accepted[name] = response.json()["jobs"][0]["links"]
        for name, links in accepted.items():
            assert _poll_until_finished(http, links["job"], owner)["state"] == "done", name
            result = http.get(links["result"], headers=owner).content
            assert icc_cases.planted_in(result) == [], name
            report = http.get(links["report"], headers=owner).json()
            expected = {"drop": "dropped", "keep": "dropped" if name == "cmyk" else "sanitised"}
            assert report["icc_profile"] == expected.get(mode, icc_cases.SANITISE_STATES[name])


def _assert_no_file_name_or_address_logged(server: ApiServer, name: str) -> None:
    log = server.log_path.read_text()
    assert '"route": "/v1/uploads"' in log
    for private in (Path(name).stem, "127.0.0.1:"):
        assert private not in log.replace(f"127.0.0.1:{server.port}", "")


def test_given_forged_forwarded_for_from_untrusted_peer_then_log_hashes_the_peer(
    api_server: ApiServer,
) -> None:
    """Without trusted proxies a client cannot choose the address that is logged."""
    before = api_server.log_path.read_text()
    forged = {"X-Forwarded-For": "203.0.113.7"}
    assert httpx.get(f"{api_server.url}/healthz", headers=forged).status_code == 200
    line = json.loads(_next_access_line(api_server, len(before)))
    assert line["client"] == hash_address(DEV_IP_HASH_KEY, "127.0.0.1")
    assert line["client"] != hash_address(DEV_IP_HASH_KEY, "203.0.113.7")


def _next_access_line(server: ApiServer, offset: int) -> str:
    """The first access line after ``offset`` (it is written just after the answer)."""
    for _ in range(50):
        lines = [x for x in server.log_path.read_text()[offset:].splitlines() if '"route"' in x]
        if lines:
            return lines[0]
        time.sleep(0.05)
    raise AssertionError("no access line logged")


def test_given_live_server_then_metrics_report_retention_figures(api_server: ApiServer) -> None:
    """`redactor serve` wires the retention gauges to the audit log and the index."""
    text = httpx.get(f"{api_server.url}/metrics").text
    gauges = dict(
        line.split(" ", 1)
        for line in text.splitlines()
        if line.startswith(("redactor_deletion_lateness_seconds", "redactor_retention_overdue"))
    )
    assert set(gauges) == {
        "redactor_deletion_lateness_seconds",
        "redactor_retention_overdue_objects",
    }
    assert all(value.strip() != "NaN" and float(value) >= 0 for value in gauges.values())


def test_given_live_server_then_no_model_library_is_loaded(api_server: ApiServer) -> None:
    """The API process maps no native code of torch, MediaPipe or the OCR engines."""
    maps = Path(f"/proc/{api_server.pid}/maps").read_text()
    assert [lib for lib in MODEL_LIBRARIES if f"/{lib}/" in maps] == []


def test_given_app_in_a_fresh_interpreter_then_model_modules_are_never_imported(
    tmp_path: Path,
) -> None:
    script = f"""
import json, sys
from fastapi.testclient import TestClient
from redactor.cli.main import cli
from redactor.http.app import create_app
from redactor.http.settings import ServerSettings
app = create_app(ServerSettings(dev_mode=True, redis_url="redis://127.0.0.1:1/0",
                                storage_dir={str(tmp_path)!r}))
with TestClient(app) as client:
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/healthz").status_code == 200
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {MODEL_LIBRARIES!r})))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_given_keys_from_the_cli_then_created_key_works_until_revoked(
    api_server: ApiServer,
) -> None:
    env = {**os.environ, **api_server.variables}
    redactor = [sys.executable, "-m", "redactor", "keys"]
    created = subprocess.run(
        [*redactor, "create", "--tenant", "e2e-cli"], env=env, capture_output=True, text=True
    )
    secret, key_id = created.stdout.strip(), created.stderr.split()[2]
    listed = subprocess.run([*redactor, "list"], env=env, capture_output=True, text=True).stdout
    assert f"{key_id}\te2e-cli" in listed and secret not in listed
    assert httpx.get(f"{api_server.url}/v1/uploads", headers=_bearer(secret)).status_code == 200
    subprocess.run([*redactor, "revoke", key_id], env=env, check=True, capture_output=True)
    assert httpx.get(f"{api_server.url}/v1/uploads", headers=_bearer(secret)).status_code == 401


@pytest.mark.parametrize(
    "raw_id",
    [
        "..%2F..%2Fetc%2Fpasswd",
        "..%252F..%252Fetc%252Fpasswd",
        "%2e%2e",
        "AAAAAAAAAAAAAAAAAAAAA%00",
        "A" * 8000,
    ],
    ids=["encoded-slashes", "double-encoded", "dots", "nul", "very-long"],
)
def test_given_path_traversal_looking_id_then_404_or_422_never_a_file(
    api_server: ApiServer, raw_id: str
) -> None:
    headers = _bearer(api_server.create_key("e2e-paths").secret)
    for path in (f"/v1/jobs/{raw_id}/result", f"/v1/jobs/{raw_id}", f"/v1/uploads/{raw_id}"):
        method = "DELETE" if path.startswith("/v1/uploads") else "GET"
        status, body = _raw_request(api_server.port, method, path, headers)
        assert status in {404, 422}, (path, status)
        assert b"root:" not in body


def _raw_request(port: int, method: str, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    status, _, body = _raw_exchange(port, method, path, headers)
    return status, body


def _raw_exchange(
    port: int, method: str, path: str, headers: dict[str, str], host: str = "127.0.0.1"
) -> tuple[int, bytes, bytes]:
    """Send ``path`` byte for byte (clients normalise dots and escapes away); returns the
    status, the response head and the body."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), head, body


@pytest.mark.parametrize(
    "path",
    ["/v1/uploads/", "/v1/jobs/AAAAAAAAAAAAAAAAAAAAAA/", "/healthz/", "/docs", "/redoc"],
)
def test_given_hostile_host_then_no_redirect_and_no_viewer_from_a_cdn(
    api_server: ApiServer, path: str
) -> None:
    for headers in ({}, _bearer(api_server.create_key("e2e-host").secret)):
        status, head, body = _raw_exchange(api_server.port, "GET", path, headers, "evil.example")
        assert status == 404, (path, status)
        assert b"location:" not in head.lower() and b"evil.example" not in head + body


def test_given_oversize_declared_body_then_413_before_any_byte_is_read(
    api_server: ApiServer,
) -> None:
    headers = {**_bearer(api_server.create_key("e2e-big").secret), "Content-Length": str(GIB)}
    status, sent = _stream_body(api_server.port, headers, chunked=False)
    assert status == 413
    assert sent < 8 * 1024 * 1024  # whatever the socket buffers took before the answer


def test_given_endless_streamed_body_then_413_early_and_memory_stays_flat(
    api_server: ApiServer,
) -> None:
    headers = {**_bearer(api_server.create_key("e2e-big").secret), "Transfer-Encoding": "chunked"}
    rss_before = _rss_bytes(api_server.pid)
    status, sent = _stream_body(api_server.port, headers, chunked=True)
    assert status == 413
    assert MAX_BODY_BYTES <= sent < MAX_BODY_BYTES + 32 * 1024 * 1024  # stopped near the limit
    assert _rss_bytes(api_server.pid) - rss_before < 48 * 1024 * 1024


def _stream_body(port: int, headers: dict[str, str], *, chunked: bool) -> tuple[int, int]:
    """Send up to 1 GiB of one multipart file until the server answers; (status, bytes sent)."""
    head = [
        "POST /v1/uploads HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: multipart/form-data; boundary=B",
    ]
    head += [f"{name}: {value}" for name, value in headers.items()]
    part = b'--B\r\nContent-Disposition: form-data; name="files"; filename="x"\r\n\r\n'
    block = b"\xff" * (1024 * 1024)
    frame = f"{len(block):x}\r\n".encode() + block + b"\r\n" if chunked else block
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n" if chunked else part)
        sent = 0
        while sent < GIB and not select.select([sock], [], [], 0)[0]:
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
            sent += len(block)
        answer = sock.recv(4096)
    return int(answer.split()[1]), sent


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.timeout(300)
def test_given_forty_uploads_from_eight_clients_then_no_5xx_and_every_job_done(
    api_server: ApiServer,
) -> None:
    key = api_server.create_key("e2e-load").secret
    image = shared_image("face_hand_occlusion.jpg").read_bytes()
    result = asyncio.run(run_load(api_server.url, key, image, uploads=40, clients=8, timeout=280))
    assert result.server_errors == 0, result.statuses
    assert result.lost == 0 and result.done == 40, result.final_states
    assert len(result.final_states) == 40  # 40 distinct job ids


@pytest.fixture(scope="session")
def fuzz_auth(api_server: ApiServer) -> dict[str, str]:
    return _bearer(api_server.create_key("e2e-fuzz").secret)


def _published_schema() -> dict[str, object]:
    """The schema the server publishes, built without any service (nothing connects)."""
    from redactor.http.app import create_app
    from redactor.http.settings import ServerSettings

    return create_app(ServerSettings(dev_mode=True)).openapi()


# Built at collection time: schemathesis makes one test per operation from it. The test
# below checks that the live server publishes exactly this schema.
api_schema = schemathesis.openapi.from_dict(_published_schema())


def test_given_live_server_then_it_publishes_the_fuzzed_schema(api_server: ApiServer) -> None:
    assert httpx.get(f"{api_server.url}/openapi.json").json() == api_schema.raw_schema


#: What "accurate schema, no 500s" means here. Left out: checks that expect any
#: schema-valid body to be accepted (random bytes are valid "binary" but not images).
FUZZ_CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.ignored_auth,
]


@pytest.mark.timeout(240)
@api_schema.parametrize()
@hypothesis.settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_given_generated_requests_then_no_server_error_and_answers_match_the_schema(
    case: schemathesis.Case[Any],
    api_server: ApiServer,
    fuzz_auth: dict[str, str],
) -> None:
    case.call_and_validate(
        base_url=api_server.url, headers=fuzz_auth, checks=FUZZ_CHECKS, timeout=40
    )
