"""End to end through the queue: the client, a real redis-server, real worker processes."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import redis
import zxingcpp
from PIL import Image

from redactor.jobs import JobState
from redactor.options import PipelineOptions
from redactor.pii.hashing import text_hash
from redactor.service.client import JobNotDone, RedactorClient
from redactor.service.redis_fields import to_fields
from redactor.storage import keys
from testkit.services import FAST_OPTIONS, QueueEnv
from tests.integration import conftest as queue_fixtures
from tests.integration.test_queue import raw_celery_envelope
from tests.support import ROOT, shared_image
from tests.unit import icc_cases

pytestmark = [pytest.mark.redis, pytest.mark.slow]

# The integration tests' Redis and workers; pytest finds fixtures by these names.
redis_server = queue_fixtures.redis_server
queue_env = queue_fixtures.queue_env
client = queue_fixtures.client

FACES = [
    "face_group_selfie.jpg",
    "face_crowd_fans.jpg",
    "face_group_cheering.jpg",
    "face_holding_award.jpg",
    "face_partial_facepaint.jpg",
    "face_portrait_closeup.jpg",
    "face_profiles_two_men.jpg",
    "face_sunglasses_walking.jpg",
    "face_two_nikon_exif.jpg",
    "face_wearing_cap_glasses.jpg",
    "face_go_players_name_cards.jpg",
    "face_group_iptc_caption.jpg",
    "face_hand_occlusion.jpg",
    "exif_orientation8_portrait.jpg",
]
PNG = "face_portrait_studio.png"
HEIC = "exif_iphone_gps.heic"
OTHERS = ["plate_dealer_placeholder.webp", "product_hands_no_face.jpg"]
#: Runs with the default pipeline (faces, personal text, codes); the rest faces only.
FULL_PIPELINE = "receipt_restaurant_small.jpeg"
#: Faces every run must find, whatever else it finds.
KNOWN_FACES = {"face_group_selfie.jpg": 5, PNG: 1, HEIC: 1}


def corrupt_jpeg() -> bytes:
    data = shared_image("face_group_selfie.jpg").read_bytes()
    return data[: len(data) * 2 // 5]


@pytest.mark.timeout(300)
def test_given_twenty_mixed_uploads_then_good_ones_are_redacted_and_bad_one_fails(
    client: RedactorClient,
) -> None:
    tenant = "e2e-batch"
    names = [*FACES, PNG, HEIC, *OTHERS]
    jobs = {client.submit(shared_image(n), tenant=tenant, options=FAST_OPTIONS): n for n in names}
    corrupt = client.submit(corrupt_jpeg(), tenant=tenant, options=FAST_OPTIONS)
    full = client.submit(shared_image(FULL_PIPELINE), tenant=tenant, options=PipelineOptions())
    jobs[full] = FULL_PIPELINE
    assert len(jobs) + 1 == 20

    records = {job_id: client.wait(job_id, timeout=240) for job_id in [*jobs, corrupt]}

    for job_id, name in jobs.items():
        record = records[job_id]
        assert record.state is JobState.DONE, (name, record.failure_code, record.failure_message)
        report = client.report(job_id)
        assert report["status"] == "redacted"
        assert report["counts"].get("face", 0) >= KNOWN_FACES.get(name, 0), name
        _assert_clean_output(client.result(job_id), report, record.output_format or "")
    assert records[_job_for(jobs, PNG)].output_format == "png"
    full_counts = client.report(full)["counts"]
    assert any(kind.startswith("pii.") for kind in full_counts), full_counts

    failed = records[corrupt]
    assert (failed.state, failed.failure_code) == (JobState.FAILED, "corrupt_image")
    assert client.report(corrupt)["status"] == "failed"
    with pytest.raises(JobNotDone, match="corrupt_image"):
        client.result(corrupt)
    assert not [o for o in client.storage.list(f"results/{tenant}/") if corrupt in o.key]
    assert len(client.jobs.list_by_tenant(tenant)) == 20
    _assert_no_file_names(client, [*jobs, corrupt], names)


@pytest.mark.timeout(180)
def test_given_a_personal_qr_code_then_its_finding_in_the_queue_report_carries_the_keyed_hash(
    client: RedactorClient, queue_env: QueueEnv
) -> None:
    content = "mailto:jane.doe@example.com"
    symbol = zxingcpp.create_barcode(content, zxingcpp.BarcodeFormat.QRCode).to_image(scale=6)
    page = Image.new("RGB", (480, 360), "white")
    page.paste(Image.fromarray(np.asarray(symbol)).convert("RGB"), (120, 60))
    upload = io.BytesIO()
    page.save(upload, "PNG")
    options = PipelineOptions(faces=False, text="off")

    job_id = client.submit(upload.getvalue(), tenant="e2e-codes", options=options)
    assert client.wait(job_id, timeout=150).state is JobState.DONE

    (code,) = [f for f in client.report(job_id)["findings"] if f["kind"].startswith("code.")]
    assert code["text_hash"] == text_hash(queue_env.settings().hash_key_bytes(), content)


def _job_for(jobs: dict[str, str], name: str) -> str:
    return next(job_id for job_id, n in jobs.items() if n == name)


def _assert_clean_output(data: bytes, report: dict[str, object], output_format: str) -> None:
    output = report["output"]
    assert isinstance(output, dict)
    assert output["sha256"] == hashlib.sha256(data).hexdigest()
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.format is not None and image.format.lower() == output_format
        assert not image.getexif()


def _assert_no_file_names(client: RedactorClient, job_ids: list[str], names: list[str]) -> None:
    """Records and reports carry ids, kinds, boxes and hashes; never the uploads' names."""
    for job_id in job_ids:
        record = client.status(job_id)
        stored = json.dumps(to_fields(record))
        for name in names:
            assert Path(name).stem not in stored


@pytest.mark.timeout(180)
def test_example_script_submits_from_a_separate_process(
    queue_env: QueueEnv, tmp_path: Path
) -> None:
    env = {**os.environ, **queue_env.variables()}
    completed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "submit_from_another_process.py"),
            str(shared_image(PNG)),
            str(shared_image(HEIC)),
            "--out",
            str(tmp_path / "out"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert completed.returncode == 0, completed.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "exif_iphone_gps.jpg",
        "face_portrait_studio.png",
    ]


#: One upload per container, each with a profile full of personal data (tests/unit/icc_cases).
ICC_UPLOADS = [
    ("v2-srgb", "jpeg"),
    ("v4-mluc", "png"),
    ("private-2mb", "webp"),
    ("wide-gamut", "tiff"),
    ("cmyk", "jpeg"),
]


@pytest.mark.timeout(240)
@pytest.mark.parametrize("mode", ["sanitise", "keep", "drop"])
def test_given_profiles_with_personal_data_then_queue_results_carry_none_of_it(
    client: RedactorClient, mode: str
) -> None:
    options = PipelineOptions(faces=False, text="off", codes=False, icc=mode)  # type: ignore[arg-type]
    jobs = {
        client.submit(
            icc_cases.image_with(icc_cases.PROFILES[name](), image_format),
            tenant="e2e-icc",
            options=options,
        ): name
        for name, image_format in ICC_UPLOADS
    }
    for job_id, name in jobs.items():
        record = client.wait(job_id, timeout=120)
        assert record.state is JobState.DONE, (name, record.failure_message)
        result = client.result(job_id)
        assert icc_cases.planted_in(result) == [], name
        expected = {"drop": "dropped", "sanitise": icc_cases.SANITISE_STATES[name]}.get(
            mode, "dropped" if name == "cmyk" else "sanitised"
        )
        report = client.report(job_id)
        assert report["icc_profile"] == expected, name
        assert ("icc" in report["metadata_removed"]) is (expected == "dropped")


@pytest.mark.timeout(120)
def test_given_old_message_with_keep_icc_then_worker_keeps_colour_and_drops_text(
    queue_env: QueueEnv,
) -> None:
    """A message queued before ``icc`` existed still runs: ``keep_icc: true`` is ``keep``."""
    tenant_id, job_id = "e2e-legacy", keys.new_upload_id()
    storage_root = Path(queue_env.fields()["storage_dir"])
    original = storage_root / "originals" / tenant_id / job_id
    original.parent.mkdir(parents=True)
    original.write_bytes(icc_cases.image_with(icc_cases.v2_srgb_with_text(), "jpeg"))
    options = {"faces": False, "text": "off", "codes": False, "keep_icc": True}
    message = json.dumps(
        {
            "v": 1,
            "job_id": job_id,
            "tenant": tenant_id,
            "original_key": f"originals/{tenant_id}/{job_id}",
            "options": options,
        }
    )
    raw = redis.Redis.from_url(queue_env.redis_url, decode_responses=True)
    raw.lpush("redactor", raw_celery_envelope(job_id, message))
    deadline = time.monotonic() + 90
    while raw.hget(f"redactor:job:{job_id}", "state") not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    fields = raw.hgetall(f"redactor:job:{job_id}")
    assert fields["state"] == "done", fields.get("failure_message")
    report = json.loads((storage_root / fields["report_key"]).read_bytes())
    assert report["icc_profile"] == "sanitised"  # keep; sanitise would have "replaced" it
    assert icc_cases.planted_in((storage_root / fields["result_key"]).read_bytes()) == []
