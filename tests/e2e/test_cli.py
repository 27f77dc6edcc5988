"""The batch CLI end to end: a real process on real files, real models."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testkit import badfiles as badinput
from tests.support import ROOT, shared_image
from tests.unit import icc_cases

pytestmark = [pytest.mark.models, pytest.mark.slow]


def run_cli(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redactor", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def test_help_explains_every_option() -> None:
    result = run_cli("redact", "--help")
    assert result.returncode == 0
    for option in [
        "--out",
        "--report",
        "--jobs",
        "--style",
        "--no-faces",
        "--text",
        "--allow",
        "--icc",
        "--min-face",
        "--ocr-detection-side",
        "--ocr-full-size",
        "--ocr-one-scale",
        "--ocr-precision",
    ]:
        assert option in result.stdout
    assert "Exit status" in result.stdout


@pytest.fixture(scope="module")
def batch(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    src = tmp_path_factory.mktemp("photos")
    (src / "people").mkdir()
    for name in [
        "face_two_nikon_exif.jpg",
        "face_portrait_studio.png",
        "exif_canon_gps_serial_artist.jpg",
    ]:
        shutil.copy(shared_image(name), src / "people" / name)
    shutil.copy(shared_image("plate_cn_closeup_really_png.jpg"), src / "really_a_png.jpg")
    good_jpeg = shared_image("face_hand_occlusion.jpg").read_bytes()
    bad = src / "bad"
    bad.mkdir()
    (bad / "empty.jpg").write_bytes(b"")
    (bad / "truncated.jpg").write_bytes(good_jpeg[: len(good_jpeg) // 2])
    (bad / "notes_named_like_a_photo.jpg").write_bytes(b"just some text, not an image\n")
    (bad / "drawing.svg").write_bytes(badinput.svg())
    (bad / "bomb.png").write_bytes(badinput.decompression_bomb_png())
    (bad / "huge.png").write_bytes(badinput.huge_dimensions_tiny_body())
    (bad / "corrupt_exif.jpg").write_bytes(badinput.jpeg_with_corrupt_exif(good_jpeg))
    out = tmp_path_factory.mktemp("out") / "redacted"
    result = run_cli("redact", src, "--out", out, "--text", "off", "--jobs", "2")
    return result, src, out


def test_batch_continues_past_bad_files_and_exits_1(batch: tuple) -> None:  # type: ignore[type-arg]
    result, _, out = batch
    assert result.returncode == 1, result.stderr
    report = json.loads((out / "redactor-report.json").read_text())
    by_input = {f["path"]: f for f in report["files"]}
    expected_errors = {
        "bad/empty.jpg": "unsupported_image",
        "bad/truncated.jpg": "corrupt_image",
        "bad/notes_named_like_a_photo.jpg": "unsupported_image",
        "bad/drawing.svg": "unsupported_image",
        "bad/bomb.png": "image_too_large",
        "bad/huge.png": "image_too_large",
    }
    for name, code in expected_errors.items():
        assert by_input[name]["status"] == "failed"
        assert by_input[name]["error_code"] == code
        assert by_input[name]["error"]
        assert by_input[name]["output_path"] is None
        assert name in result.stderr
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert not any(p.startswith("bad/") and "corrupt_exif" not in p for p in written)
    assert report["summary"]["files"] == 11


def test_good_files_are_redacted_under_the_same_relative_paths(batch: tuple) -> None:  # type: ignore[type-arg]
    _, _, out = batch
    assert (out / "people" / "face_two_nikon_exif.jpg").is_file()
    assert (out / "people" / "face_portrait_studio.png").is_file()
    # Format comes from the bytes: a PNG named .jpg comes out as a PNG.
    assert (out / "really_a_png.png").read_bytes().startswith(b"\x89PNG")
    report = json.loads((out / "redactor-report.json").read_text())
    nikon = next(f for f in report["files"] if f["path"] == "people/face_two_nikon_exif.jpg")
    assert nikon["status"] == "redacted"
    assert nikon["counts"]["face"] >= 2
    assert {"exif", "xmp"} <= set(nikon["metadata_removed"])


def test_outputs_carry_no_metadata(batch: tuple) -> None:  # type: ignore[type-arg]
    _, _, out = batch
    data = (out / "people" / "exif_canon_gps_serial_artist.jpg").read_bytes()
    assert b"Exif\x00\x00" not in data
    assert b"http://ns.adobe.com/xap" not in data
    assert b"Photoshop 3.0" not in data


def test_reports_carry_no_personal_content(batch: tuple) -> None:  # type: ignore[type-arg]
    _, _, out = batch
    text = (out / "redactor-report.json").read_text()
    for secret in ["Canon", "GPS", "Nikon"]:
        assert secret not in text


def test_speed_options_are_taken_and_out_of_range_ones_refused(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(shared_image("face_two_nikon_exif.jpg"), src / "a.jpg")
    fast = run_cli(
        "redact", src, "--out", tmp_path / "out", "--min-face", "32", "--ocr-detection-side", "960"
    )
    assert fast.returncode == 0, fast.stderr
    report = json.loads((tmp_path / "out" / "redactor-report.json").read_text())
    (entry,) = report["files"]
    assert entry["status"] == "redacted"
    assert [f["kind"] for f in entry["findings"]].count("face") >= 2
    refused = run_cli("redact", src, "--out", tmp_path / "out2", "--min-face", "5")
    assert refused.returncode == 2
    assert "--min-face" in refused.stderr
    assert not (tmp_path / "out2").exists()


def test_output_inside_input_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "photos"
    src.mkdir()
    shutil.copy(shared_image("face_hand_occlusion.jpg"), src / "a.jpg")
    result = run_cli("redact", src, "--out", src / "redacted")
    assert result.returncode == 2
    assert "inside input folder" in result.stderr
    assert not (src / "redacted").exists()


def test_bundled_samples_redact_cleanly(tmp_path: Path) -> None:
    """The README's first command, on the samples shipped in the repository."""
    result = run_cli("redact", ROOT / "samples", "--out", tmp_path / "demo")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "demo" / "redactor-report.json").read_text())
    assert report["summary"]["failed"] == 0
    kinds = report["summary"]["findings"]
    assert kinds.get("face", 0) >= 2
    label = next(f for f in report["files"] if f["path"].endswith("coffee_shipping_label.png"))
    assert "face" not in label["counts"]  # the cup is not a face
    assert {"pii.email", "pii.phone", "pii.tracking"} <= set(label["counts"])


@pytest.mark.parametrize("mode", ["sanitise", "keep", "drop"])
def test_given_profiles_with_personal_data_then_cli_outputs_carry_none_of_it(
    tmp_path: Path, mode: str
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    uploads = {
        f"{name}.{image_format}": name
        for name in sorted(icc_cases.PROFILES)
        for image_format in icc_cases.FORMATS
        if (name != "cmyk" or image_format in ("jpeg", "tiff"))
        and (name != "private-2mb" or image_format != "png")
    }
    for file_name, name in uploads.items():
        image_format = file_name.rsplit(".", 1)[1]
        (src / file_name).write_bytes(
            icc_cases.image_with(icc_cases.PROFILES[name](), image_format)
        )
    out = tmp_path / "out"
    flags = ("--no-faces", "--text", "off", "--no-codes", "--quiet")
    result = run_cli("redact", src, "--out", out, "--icc", mode, *flags)

    assert result.returncode == 0, result.stderr
    report = json.loads((out / "redactor-report.json").read_text())
    assert report["options"]["icc"] == mode
    for entry in report["files"]:
        name = uploads[entry["path"]]
        output = (out / entry["output_path"]).read_bytes()
        assert icc_cases.planted_in(output) == [], entry["path"]
        expected = {"drop": "dropped", "sanitise": icc_cases.SANITISE_STATES[name]}.get(
            mode, "dropped" if name == "cmyk" else "sanitised"
        )
        assert entry["icc_profile"] == expected, entry["path"]
    assert icc_cases.planted_in((out / "redactor-report.json").read_bytes()) == []


def test_given_old_drop_icc_flag_then_it_means_icc_drop(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    upload = icc_cases.image_with(icc_cases.v2_srgb_with_text(), "jpeg")
    (tmp_path / "in" / "a.jpg").write_bytes(upload)
    flags = ("--no-faces", "--text", "off", "--no-codes", "--quiet", "--drop-icc")
    result = run_cli("redact", tmp_path / "in", "--out", tmp_path / "out", *flags)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out" / "redactor-report.json").read_text())
    assert report["options"]["icc"] == "drop"
    assert report["files"][0]["icc_profile"] == "dropped"


#: What TensorFlow Lite and absl print on stderr when MediaPipe loads its models.
NATIVE_CHATTER = ("TensorFlow Lite", "absl::InitializeLog", "inference_feedback_manager")


def test_native_libraries_are_quiet_by_default_and_speak_with_vv(tmp_path: Path) -> None:
    image = ROOT / "samples" / "marketplace" / "coffee_shipping_label.png"
    quiet = run_cli("redact", image, "--out", tmp_path / "a", "--quiet")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    verbose = run_cli("-vv", "redact", image, "--out", tmp_path / "b", "--quiet")
    assert verbose.returncode == 0, verbose.stderr
    native = [line for line in verbose.stderr.splitlines() if "DEBUG redactor.native" in line]
    assert all(any(c in line for c in NATIVE_CHATTER) for line in native)
    assert {c for c in NATIVE_CHATTER if any(c in line for line in native)} == set(NATIVE_CHATTER)
