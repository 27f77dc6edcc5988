"""The speed and peers benchmarks: the pixel scorer on made-up cases, and each command's
quick variant end to end (it must finish and write a JSON report with every figure)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from bench.judge import cells, kept, redacted
from bench.speed import PHASES
from redactor.geometry import Box

ROOT = Path(__file__).resolve().parents[2]


def _textured(height: int = 40, width: int = 120) -> npt.NDArray[np.uint8]:
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def _blurred(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    import cv2

    return np.asarray(cv2.blur(image, (25, 25)), dtype=np.uint8)


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        (Box(0, 0, 120, 40), 3),  # long and flat: three square-ish cells
        (Box(0, 0, 40, 40), 1),
        (Box(100, 0, 200, 20), 1),  # clipped to the image first
        (Box(130, 0, 200, 40), 0),  # outside the image
    ],
)
def test_given_a_box_then_cells_cover_it_along_its_long_side(box: Box, expected: int) -> None:
    assert len(cells(box, 120, 40)) == expected


@pytest.mark.parametrize(
    ("change", "is_redacted", "is_kept"),
    [
        ("none", False, True),
        ("fill", True, False),
        ("blur", True, False),
        ("fill_left_half", False, False),  # touched, not gone
    ],
)
def test_given_a_change_then_the_item_is_scored_by_its_pixels(
    change: str, is_redacted: bool, is_kept: bool
) -> None:
    before = _textured()
    after = before.copy()
    if change == "fill":
        after[:] = 0
    elif change == "blur":
        after = _blurred(before)
    elif change == "fill_left_half":
        after[:, :60] = 0
    box = Box(0, 0, 120, 40)
    assert redacted(before, after, box) is is_redacted
    assert kept(before, after, box) is is_kept


def test_the_stage_table_shows_document_mode_in_tenths_of_a_millisecond() -> None:
    # on the benchmark scenes (no document) document mode's pass is about a millisecond:
    # its share of the pipeline is what issue 20 bounds (10 %)
    from rich.console import Console

    from bench.speed_processes import ThroughputRow
    from bench.speed_report import stage_table

    row = ThroughputRow("full", "1600x1200", stages={"documents": 0.64, "total": 1512.3})
    console = Console(record=True, width=120)
    console.print(stage_table([row]))
    text = console.export_text()
    assert "documents" in text and "0.6" in text and "1512" in text


def _run(module: str, out: Path) -> dict[str, Any]:
    subprocess.run(
        [sys.executable, "-m", module, "--quick", "--out", str(out)],
        cwd=ROOT,
        check=True,
        timeout=300,
    )
    report: dict[str, Any] = json.loads(out.read_text())
    return report


@pytest.mark.slow
@pytest.mark.models
@pytest.mark.redis
def test_given_quick_speed_then_every_figure_is_reported(tmp_path: Path) -> None:
    report = _run("bench.speed", tmp_path / "speed.json")
    rows = {(row["pipeline"], row["size"]): row for row in report["throughput"]}
    assert set(rows) == set(PHASES)
    assert {
        (pipeline, size)
        for pipeline in ("floor", "faces", "full")
        for size in ("1600x1200", "4000x3000")
    } <= set(rows)
    for row in rows.values():
        assert all(value > 0 for runs in row["per_run"].values() for value in runs)
    threads = {row["pipeline"]: row for row in report["threads"]}
    assert set(threads) == {"floor", "faces", "full"}
    assert all(row["one_process_two_threads"] > 0 for row in threads.values())
    full = rows[("full", "1600x1200")]["stages"]
    assert {
        "ocr.propose",
        "ocr.det",
        "ocr.rec",
        "pii_rules",
        "code.zxing",
        "faces.model_calls",
        "documents",
    } <= set(full)
    assert all(len(report["queue"]["latency_s"][name]) == 2 for name in ("faces", "full"))
    memory = report["startup_and_memory"]
    assert memory["queue_worker_start_to_models_loaded_s"] > 0
    assert memory["peak_rss_mb_queue_pool"] > 0
    assert memory["peak_rss_mb_worker_pipelines_all_sizes"] > 0
    assert len(report["targets"]) == 4


@pytest.mark.slow
@pytest.mark.models
def test_given_quick_peers_then_every_tool_is_timed_and_scored(tmp_path: Path) -> None:
    report = _run("bench.peers", tmp_path / "peers.json")
    tools = {tool["tool"]: tool for tool in report["tools"]}
    assert len(tools) == 4
    for tool in tools.values():
        assert tool["throughput_median"] > 0
        assert tool["faces"]["total"] > 0 and tool["personal"]["total"] > 0
    # Tools that do not look for faces (or text) redact none: the scorer sees pixels only.
    assert tools["presidio-image-redactor 0.0.62"]["faces"]["found"] == 0
    assert tools["deface 1.5.0"]["personal"]["found"] == 0
    assert tools["redactor faces"]["personal"]["found"] == 0
