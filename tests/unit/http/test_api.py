"""The API's HTTP contract in-process, with real Redis and no workers."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable

import pytest
import redis
from fastapi.testclient import TestClient

from redactor.http.logging import ACCESS_LOGGER
from redactor.jobs import JobState
from redactor.logs import JsonLineFormatter
from redactor.task_message import TaskMessage, parse_task_message
from tests.unit.http.conftest import QUEUE, bearer, png_bytes, upload

pytestmark = pytest.mark.redis

KeyFor = Callable[[str], str]
MakeApi = Callable[..., TestClient]


def _job_id(response: object) -> str:
    return response.json()["jobs"][0]["id"]  # type: ignore[attr-defined,no-any-return]


# --- keys ---


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer rdk_" + "x" * 43},
        {"Authorization": "Bearer not-a-key"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
    ids=["missing", "unknown", "malformed", "basic"],
)
def test_given_no_valid_key_then_401_with_bearer_challenge(
    api: TestClient, headers: dict[str, str]
) -> None:
    for method, path in [("GET", "/v1/uploads"), ("POST", "/v1/uploads")]:
        response = api.request(method, path, headers=headers)
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"] == "Bearer"


def test_given_revoked_key_then_401_at_once(api: TestClient, redis_db: redis.Redis) -> None:
    from redactor.http.auth import KeyStore
    from redactor.http.settings import DEV_API_KEY_PEPPER

    store = KeyStore(redis_db, DEV_API_KEY_PEPPER)
    new = store.create("acme")
    assert api.get("/v1/uploads", headers=bearer(new.secret)).status_code == 200
    assert store.revoke(new.key.key_id)
    assert api.get("/v1/uploads", headers=bearer(new.secret)).status_code == 401
    assert not store.revoke(new.key.key_id)


def test_given_created_keys_then_redis_holds_only_their_hashes(
    redis_db: redis.Redis, key_for: KeyFor
) -> None:
    secrets = [key_for("acme"), key_for("globex")]
    dump = json.dumps({key: redis_db.dump(key).hex() for key in redis_db.keys("*")})  # type: ignore[union-attr]
    for secret in secrets:
        assert secret not in dump and secret[4:] not in dump


# --- tenant isolation and ids ---


def test_given_other_tenants_job_then_every_route_answers_404(
    api: TestClient, key_for: KeyFor
) -> None:
    owner, other = key_for("acme"), key_for("globex")
    job_id = _job_id(upload(api, owner))
    for path in [f"/v1/jobs/{job_id}", f"/v1/jobs/{job_id}/result", f"/v1/jobs/{job_id}/report"]:
        assert api.get(path, headers=bearer(other)).status_code == 404
        assert api.get(path, headers=bearer(owner)).status_code in {200, 409}
    assert api.delete(f"/v1/uploads/{job_id}", headers=bearer(other)).status_code == 404
    assert api.get(f"/v1/jobs/{job_id}", headers=bearer(owner)).status_code == 200
    assert api.get("/v1/uploads", headers=bearer(other)).json()["items"] == []


@pytest.mark.parametrize(
    "job_id",
    [
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "AAAAAAAAAAAAAAAAAAAAA%00",
        "A" * 5000,
        "AAAAAAAAAAAAAAAAAAAAAA",  # well-formed, unknown
    ],
    ids=["encoded-slashes", "encoded-dots", "nul", "very-long", "unknown"],
)
def test_given_hostile_or_unknown_id_then_404_or_422(
    api: TestClient, key_for: KeyFor, job_id: str
) -> None:
    secret = key_for("acme")
    for path in [f"/v1/jobs/{job_id}", f"/v1/jobs/{job_id}/result"]:
        assert api.get(path, headers=bearer(secret)).status_code in {404, 422}
    assert api.delete(f"/v1/uploads/{job_id}", headers=bearer(secret)).status_code in {404, 422}


# --- uploads: options, formats, limits ---


def test_given_two_images_then_two_queued_jobs_with_links(
    api: TestClient, key_for: KeyFor, redis_db: redis.Redis
) -> None:
    response = upload(api, key_for("acme"), [png_bytes(), png_bytes((8, 8))], styles="face=fill")
    assert response.status_code == 202
    jobs = response.json()["jobs"]
    assert [job["state"] for job in jobs] == ["queued", "queued"]
    assert jobs[0]["links"]["result"] == f"/v1/jobs/{jobs[0]['id']}/result"
    assert redis_db.llen(QUEUE) == 2
    same_tenant = bearer(key_for("acme"))  # jobs belong to the tenant, not to one key
    assert api.get(jobs[0]["links"]["job"], headers=same_tenant).status_code == 200


def _queued_message(redis_db: redis.Redis) -> TaskMessage:
    """The task message of the oldest queued Celery envelope (protocol 2, JSON body)."""
    envelope = json.loads(redis_db.lindex(QUEUE, -1))  # type: ignore[arg-type]
    args, _, _ = json.loads(base64.b64decode(envelope["body"]))
    return parse_task_message(args[0])


@pytest.mark.parametrize(
    ("fields", "expected"), [({}, "sanitise"), ({"icc": "keep"}, "keep"), ({"icc": "drop"}, "drop")]
)
def test_given_icc_option_then_the_queued_message_carries_it(
    api: TestClient, key_for: KeyFor, redis_db: redis.Redis, fields: dict[str, str], expected: str
) -> None:
    response = upload(api, key_for("acme"), **fields)
    assert response.status_code == 202
    message = _queued_message(redis_db)
    assert message.job_id == _job_id(response)
    assert message.options is not None and message.options.icc == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "int8-proposal"),
        ({"ocr_precision": "fp32"}, "fp32"),
        ({"ocr_precision": "int8"}, "int8"),
        ({"ocr_precision": "int8-proposal"}, "int8-proposal"),
    ],
)
def test_given_ocr_precision_then_the_queued_message_carries_it(
    api: TestClient, key_for: KeyFor, redis_db: redis.Redis, fields: dict[str, str], expected: str
) -> None:
    assert upload(api, key_for("acme"), **fields).status_code == 202
    message = _queued_message(redis_db)
    assert message.options is not None and message.options.ocr_precision == expected


def test_given_int8_on_a_server_whose_engine_has_no_quantised_model_then_422(
    make_api: MakeApi, key_for: KeyFor, redis_db: redis.Redis
) -> None:
    from redactor.options import PipelineOptions

    api = make_api(pipeline=PipelineOptions(ocr_engine="easyocr"))
    response = upload(api, key_for("acme"), ocr_precision="int8")
    assert response.status_code == 422
    assert "ocr_precision int8 needs ocr_engine rapidocr" in response.json()["detail"][0]["msg"]
    assert redis_db.llen(QUEUE) == 0


@pytest.mark.parametrize(
    "content",
    [
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>',
        b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n",
        b"just some text, renamed to .jpg",
        b"",
    ],
    ids=["svg", "pdf", "text", "empty"],
)
def test_given_non_image_named_jpg_then_415_and_nothing_queued(
    api: TestClient, key_for: KeyFor, redis_db: redis.Redis, content: bytes
) -> None:
    parts = [("files", ("holiday.jpg", content, "image/jpeg"))]
    response = api.post("/v1/uploads", headers=bearer(key_for("acme")), files=parts)
    assert response.status_code == 415
    assert "holiday" not in response.text
    assert redis_db.llen(QUEUE) == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"text": "everything"}, "text"),
        ({"styles": "face=smudge"}, "styles"),
        ({"styles": "face"}, "styles"),
        ({"icc": "verbatim"}, "icc"),
        ({"ocr_precision": "int4"}, "ocr_precision"),
        ({"original_retention": "-1"}, "original_retention"),
        ({"original_retention": "90000"}, "original_retention"),  # above the tenant's 24 h
        ({"result_retention": "0"}, "result_retention"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_given_bad_option_then_422_naming_it(
    api: TestClient, key_for: KeyFor, fields: dict[str, str], field: str
) -> None:
    response = upload(api, key_for("acme"), **fields)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]


def test_given_no_files_then_422(api: TestClient, key_for: KeyFor) -> None:
    response = api.post(
        "/v1/uploads", headers=bearer(key_for("acme")), files={"text": (None, "off")}
    )
    assert response.status_code == 422


def test_given_retention_within_tenant_limit_then_deadlines_follow_it(
    make_api: MakeApi, key_for: KeyFor, redis_db: redis.Redis
) -> None:
    api = make_api(tenant_limits={"acme": {"original": 7200, "result": 600}})
    secret = key_for("acme")
    short = upload(api, secret, original_retention="600", result_retention="60").json()["jobs"][0]
    default = upload(api, secret).json()["jobs"][0]
    record = api.get(short["links"]["job"], headers=bearer(secret)).json()
    lifetime = _seconds_between(record["created_at"], short["original_deadline"])
    assert lifetime == pytest.approx(600, abs=1)
    assert _seconds_between(record["created_at"], default["original_deadline"]) <= 7201
    assert redis_db.hget(f"redactor:job:{short['id']}", "result_retention") is not None
    for field, seconds in (("original_retention", "7201"), ("result_retention", "601")):
        refused = upload(api, secret, **{field: seconds})
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["body", field]
        assert "maximum" in refused.json()["detail"][0]["msg"]


def _seconds_between(start: str, end: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def test_given_too_many_files_then_413(make_api: MakeApi, key_for: KeyFor) -> None:
    api = make_api(max_files_per_request=2)
    response = upload(api, key_for("acme"), [png_bytes()] * 3)
    assert response.status_code == 413
    assert "at most 2 files" in response.json()["detail"]


def test_given_file_over_the_per_file_limit_then_413(
    make_api: MakeApi, key_for: KeyFor, redis_db: redis.Redis
) -> None:
    api = make_api(pipeline={"text": "off", "codes": False, "limits": {"max_file_bytes": 1000}})
    response = upload(api, key_for("acme"), [png_bytes((200, 200)) + b"\0" * 2000])
    assert response.status_code == 413
    assert redis_db.llen(QUEUE) == 0


def test_given_body_over_the_limit_then_413_before_auth_or_parsing(make_api: MakeApi) -> None:
    api = make_api(max_body_bytes=10_000)
    response = api.post("/v1/uploads", content=b"x" * 20_000)
    assert response.status_code == 413
    assert "10000 bytes" in response.json()["detail"]


def test_given_not_multipart_then_415(api: TestClient, key_for: KeyFor) -> None:
    response = api.post(
        "/v1/uploads", headers=bearer(key_for("acme")), json={"files": ["aGVsbG8="]}
    )
    assert response.status_code == 415


def test_given_truncated_multipart_then_400(api: TestClient, key_for: KeyFor) -> None:
    body = b'--b\r\nContent-Disposition: form-data; name="files"; filename="a"\r\n\r\nabc'
    headers = {**bearer(key_for("acme")), "Content-Type": "multipart/form-data; boundary=b"}
    assert api.post("/v1/uploads", headers=headers, content=body).status_code == 400


# --- rate limit and backpressure ---


def test_given_requests_over_the_rate_limit_then_429_with_retry_after(
    make_api: MakeApi, key_for: KeyFor
) -> None:
    api = make_api(rate_limit=3, rate_window=60)
    limited, other = key_for("acme"), key_for("acme")
    statuses = [api.get("/v1/uploads", headers=bearer(limited)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = api.get("/v1/uploads", headers=bearer(limited))
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert api.get("/v1/uploads", headers=bearer(other)).status_code == 200  # per key


def test_given_rate_limit_then_it_is_shared_by_every_api_process(
    make_api: MakeApi, key_for: KeyFor
) -> None:
    first, second = make_api(rate_limit=2), make_api(rate_limit=2)
    secret = key_for("acme")
    assert first.get("/v1/uploads", headers=bearer(secret)).status_code == 200
    assert second.get("/v1/uploads", headers=bearer(secret)).status_code == 200
    assert first.get("/v1/uploads", headers=bearer(secret)).status_code == 429


def test_given_queue_deeper_than_bound_then_uploads_get_503_with_retry_after(
    make_api: MakeApi, key_for: KeyFor, redis_db: redis.Redis
) -> None:
    api = make_api(max_queue_depth=1, backpressure_retry_after=7)
    secret = key_for("acme")
    redis_db.rpush(QUEUE, "a", "b")
    refused = upload(api, secret)
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "7"
    assert api.get("/v1/uploads", headers=bearer(secret)).status_code == 200  # reads still work
    redis_db.delete(QUEUE)
    assert upload(api, secret).status_code == 202


# --- jobs, listing, erasure ---


def test_given_queued_job_then_result_and_report_answer_409_until_done(
    api: TestClient, key_for: KeyFor
) -> None:
    secret = key_for("acme")
    job_id = _job_id(upload(api, secret))
    job = api.get(f"/v1/jobs/{job_id}", headers=bearer(secret)).json()
    assert job["state"] == "queued" and job["failure"] is None
    assert job["original_deadline"] and job["result_deadline"] is None
    for what in ("result", "report"):
        response = api.get(f"/v1/jobs/{job_id}/{what}?wait=1", headers=bearer(secret))
        assert response.status_code == 409
        assert "queued" in response.json()["detail"]
    assert api.get(f"/v1/jobs/{job_id}?wait=31", headers=bearer(secret)).status_code == 422


def test_given_result_deleted_by_retention_then_410(
    api: TestClient, key_for: KeyFor, redis_db: redis.Redis
) -> None:
    from dataclasses import replace
    from datetime import timedelta

    from redactor.clock import utcnow
    from redactor.jobs import JobRecord
    from redactor.service.redis_fields import to_fields
    from redactor.storage import keys
    from testkit.services import FAST_OPTIONS

    now, job_id = utcnow(), keys.new_upload_id()
    record = JobRecord.new(
        job_id, "acme", FAST_OPTIONS, now=now, original_retention=timedelta(hours=1)
    )
    expired = replace(
        record,
        state=JobState.DONE,
        timestamps={**record.timestamps, JobState.DONE: now},
        result_key=keys.result_key("acme", job_id, "jpeg"),
        output_format="jpeg",
        result_deleted_at=now,
    )
    redis_db.hset(f"redactor:job:{job_id}", mapping=to_fields(expired))  # type: ignore[arg-type]
    response = api.get(f"/v1/jobs/{job_id}/result", headers=bearer(key_for("acme")))
    assert response.status_code == 410
    assert "retention" in response.json()["detail"]


def test_given_many_uploads_then_pages_cover_each_once_newest_first(
    api: TestClient, key_for: KeyFor
) -> None:
    secret = key_for("acme")
    made = [_job_id(upload(api, secret)) for _ in range(7)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get("/v1/uploads", headers=bearer(secret), params=params).json()
        seen += [item["id"] for item in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == made[::-1]


@pytest.mark.parametrize("cursor", ["nonsense", "", "bmFuIEFBQUE=", "MS4wIC4uLy4uL2V0Yw=="])
def test_given_forged_cursor_then_422(api: TestClient, key_for: KeyFor, cursor: str) -> None:
    response = api.get("/v1/uploads", headers=bearer(key_for("acme")), params={"cursor": cursor})
    assert response.status_code == 422


def test_given_erased_upload_then_it_is_gone_everywhere(
    api: TestClient, key_for: KeyFor, redis_db: redis.Redis
) -> None:
    secret = key_for("acme")
    job_id = _job_id(upload(api, secret))
    storage = api.app.state.context.client.storage  # type: ignore[attr-defined]
    assert storage.exists(f"originals/acme/{job_id}")
    assert api.delete(f"/v1/uploads/{job_id}", headers=bearer(secret)).status_code == 204
    assert not storage.exists(f"originals/acme/{job_id}")
    assert redis_db.hget(f"redactor:job:{job_id}", "state") == JobState.ERASED.value
    assert api.get(f"/v1/jobs/{job_id}", headers=bearer(secret)).status_code == 404
    assert api.delete(f"/v1/uploads/{job_id}", headers=bearer(secret)).status_code == 404
    assert api.get("/v1/uploads", headers=bearer(secret)).json()["items"] == []


# --- health, metrics, headers, logs, schema ---


def test_given_running_app_then_health_ready_and_metrics_answer(
    make_settings: Callable[..., object], key_for: KeyFor
) -> None:
    from redactor.http.app import create_app

    app = create_app(
        make_settings(),  # type: ignore[arg-type]
        deletion_lateness=lambda: 42.5,
        overdue_objects=lambda: 3,
    )
    with TestClient(app) as api:
        assert api.get("/healthz").json() == {"status": "ok"}
        assert api.get("/readyz").json() == {
            "status": "ok",
            "checks": {"redis": True, "storage": True},
        }
        upload(api, key_for("acme"))
        text = api.get("/metrics").text
    assert 'redactor_http_requests_total{method="POST",route="/v1/uploads",status="202"} 1.0' in (
        text
    )
    assert "redactor_http_request_duration_seconds_bucket" in text
    assert "redactor_queue_depth 1.0" in text
    assert 'redactor_jobs{state="queued"} 1.0' in text
    assert "redactor_deletion_lateness_seconds 42.5" in text
    assert "redactor_retention_overdue_objects 3.0" in text
    assert "redactor_http_uploads_total 1.0" in text


def test_given_storage_missing_then_not_ready(make_api: MakeApi, tmp_path: object) -> None:
    api = make_api(storage_dir="/nonexistent/redactor-storage")
    response = api.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"redis": True, "storage": False}


def test_given_any_response_then_it_is_not_cacheable(api: TestClient, key_for: KeyFor) -> None:
    for response in [api.get("/healthz"), api.get("/v1/uploads"), upload(api, key_for("acme"))]:
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_given_requests_then_access_log_has_hashed_client_and_no_names_or_ids(
    api: TestClient, key_for: KeyFor, caplog: pytest.LogCaptureFixture
) -> None:
    secret = key_for("acme")
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        job_id = _job_id(upload(api, secret))
        api.get(f"/v1/jobs/{job_id}?wait=0", headers=bearer(secret))
    records = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    lines = [json.loads(JsonLineFormatter().format(r)) for r in records]
    assert [line["route"] for line in lines] == ["/v1/uploads", "/v1/jobs/{job_id}"]
    text = caplog.text + "".join(map(json.dumps, lines))
    for secret_or_private in ("testclient", "photo.png", job_id, secret):
        assert secret_or_private not in text
    assert all(len(line["client"]) == 16 and line["key"] for line in lines)
    assert all(len(line["request_id"]) == 16 for line in lines)


def test_given_openapi_then_every_route_and_the_bearer_scheme_are_published(
    api: TestClient,
) -> None:
    schema = api.get("/openapi.json").json()
    assert set(schema["paths"]) == {
        "/v1/uploads",
        "/v1/uploads/{job_id}",
        "/v1/jobs/{job_id}",
        "/v1/jobs/{job_id}/result",
        "/v1/jobs/{job_id}/report",
        "/healthz",
        "/readyz",
        "/metrics",
    }
    body = schema["paths"]["/v1/uploads"]["post"]["requestBody"]["content"]
    assert body["multipart/form-data"]["schema"]["required"] == ["files"]
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
