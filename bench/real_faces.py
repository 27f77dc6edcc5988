"""Faces in real photos, against eye-checked head boxes, side by side with deface.

    python -m bench.real_faces [--quick] [--out bench-out/real-faces.json]

Images: every file ``bench/data/real_faces.json`` labels (in ``../shared/test-images``,
internal fixtures that stay there, or ``skimage:<name>``), faces and negatives. Each
face has a head box (hairline or top of head to chin, ear to ear), optional conditions
(masked, profile, occluded, cut...) and a ``difficult`` flag for faces a careful person
would not be sure of. A face's size band is its head width: <24, 24-48, 48-96, >=96 px.

Figures, the same way for every tool, from the output pixels (``bench.judge.redacted``):

* **recall**: a face counts as found when every cell of the middle half of its face box
  (of its head box when no face box is labelled) changed strongly. Per size band and
  per condition over faces not marked difficult; difficult ones are reported apart.
* **false-positive regions per image**: groups of strongly changed pixels that touch no
  labelled head; **negatives kept**: negative images with no such region at all.
* **images/s**, faces only: ``bench.peers.run_tools`` (two processes of one thread, the
  median of the runs, the tools taking turns) on the same files in the same run;
  ``--baseline DIR`` adds redactor from another checkout (the code before a change).

From redactor's reports only: **head coverage**, the share of each found face's head
ellipse (the ellipse inside its labelled box) that lies inside the redacted masks.

``--quick`` runs redactor alone on two images (no peers, no timing): a smoke test.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import cv2
import numpy as np
from PIL import Image
from rich.console import Console
from rich.table import Table

from bench import peers
from bench.judge import CHANGED_MEAN_DIFF, FACE_CORE, Pixels, redacted
from bench.peer_tools import TOOLS_BY_LABEL, baseline_tool
from redactor import imaging
from redactor.findings import FACE
from redactor.geometry import Box
from redactor.options import PipelineOptions
from redactor.pipeline import Pipeline
from redactor.redact import face_mask

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "bench" / "data" / "real_faces.json"
IMAGES = ROOT.parent / "shared" / "test-images"
BANDS = ((0.0, 24.0, "<24"), (24.0, 48.0, "24-48"), (48.0, 96.0, "48-96"), (96.0, math.inf, ">=96"))
FACES_ONLY = PipelineOptions(text="off", codes=False)
TOOLS = {"redactor": "redactor faces", "deface": "deface 1.5.0"}
#: Fine detail is the grey image minus its Gaussian blur of this sigma ...
FINE_SIGMA = 3.0
#: ... compared over windows of this side; a window held detail above this energy.
CHANGED_WINDOW = 15
DETAIL_ENERGY = 9.0
#: Detail is gone below this share kept (a JPEG of quality 75 keeps more at this scale).
DETAIL_GONE = 0.35
#: A changed area counts from this many pixels (a 20 px square).
CHANGED_MIN_AREA = 400
#: A changed group touching a head box grown by this factor belongs to that head.
HEAD_SLACK = 1.6
QUICK_IMAGES = ("face_medical_mask.jpg", "product_hands_no_face.jpg")


@dataclass(frozen=True)
class FaceLabel:
    head: Box
    face: Box | None
    conditions: tuple[str, ...]
    difficult: bool

    @property
    def band(self) -> str:
        return next(name for low, high, name in BANDS if low <= self.head.width < high)

    @property
    def core(self) -> Box:
        return (self.face or self.head).scaled_about_center(FACE_CORE)


@dataclass(frozen=True)
class ImageLabel:
    name: str
    negative: bool
    faces: tuple[FaceLabel, ...]


@dataclass
class Tally:
    found: int = 0
    total: int = 0

    def add(self, hit: bool) -> None:
        self.found += hit
        self.total += 1

    @property
    def rate(self) -> float | None:
        return self.found / self.total if self.total else None


@dataclass
class ToolScore:
    tool: str
    bands: dict[str, Tally] = field(default_factory=lambda: {b[2]: Tally() for b in BANDS})
    conditions: dict[str, Tally] = field(default_factory=dict)
    difficult: Tally = field(default_factory=Tally)
    false_regions: list[int] = field(default_factory=list)
    negatives_kept: Tally = field(default_factory=Tally)
    coverage: list[float] = field(default_factory=list)
    images_per_s: float | None = None
    missed: list[dict[str, Any]] = field(default_factory=list)

    def recall(self, bands: Sequence[str]) -> float | None:
        found = sum(self.bands[b].found for b in bands)
        total = sum(self.bands[b].total for b in bands)
        return found / total if total else None

    def summary(self) -> dict[str, Any]:
        return {
            "recall_all": self.recall([b[2] for b in BANDS]),
            "recall_24_up": self.recall(["24-48", "48-96", ">=96"]),
            "recall_under_24": self.recall(["<24"]),
            "recall_difficult": self.difficult.rate,
            "by_band": {k: _tally(v) for k, v in self.bands.items()},
            "by_condition": {k: _tally(v) for k, v in sorted(self.conditions.items())},
            "false_positive_regions_per_image": (
                statistics.mean(self.false_regions) if self.false_regions else None
            ),
            "negatives_kept": _tally(self.negatives_kept),
            "head_coverage_mean": statistics.mean(self.coverage) if self.coverage else None,
            "head_coverage_at_least_0_9": (
                sum(c >= 0.9 for c in self.coverage) / len(self.coverage) if self.coverage else None
            ),
            "images_per_s": self.images_per_s,
            "missed": self.missed,
        }


def _tally(t: Tally) -> dict[str, Any]:
    return {"found": t.found, "total": t.total, "rate": t.rate}


def load_labels(path: Path = LABELS) -> list[ImageLabel]:
    data = json.loads(path.read_text(encoding="utf-8"))
    labels = []
    for name, entry in data["images"].items():
        faces = tuple(
            FaceLabel(
                head=Box(*map(float, face["head"])),
                face=Box(*map(float, face["face"])) if face.get("face") else None,
                conditions=tuple(face.get("conditions", ())),
                difficult=bool(face.get("difficult", False)),
            )
            for face in entry.get("faces", [])
        )
        labels.append(ImageLabel(name, bool(entry.get("negative", False)), faces))
    return labels


def image_bytes(name: str) -> bytes:
    """The file's bytes, or a scikit-image sample (``skimage:NAME``) as PNG."""
    if name.startswith("skimage:"):
        from skimage import data

        pixels = getattr(data, name.split(":", 1)[1])()
        ok, encoded = cv2.imencode(".png", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
        assert ok
        return encoded.tobytes()
    return (IMAGES / name).read_bytes()


def upright(data: bytes) -> Pixels:
    image = imaging.decode(data, FACES_ONLY.limits)
    return np.ascontiguousarray(imaging.detection_views(image.frames[0])[0])


def changed_regions(before: Pixels, after: Pixels) -> list[Box]:
    """Boxes around the areas a tool redacted: where the mean change is large, or where
    fine detail was there and is gone (``bench.peers``' judge, per pixel neighbourhood).
    Re-encoding (another JPEG quality) moves pixels a little and keeps their detail."""
    grey = [img.astype(np.float32).mean(axis=2) for img in (before, after)]
    fine = [g - cv2.GaussianBlur(g, (0, 0), FINE_SIGMA) for g in grey]
    window = (CHANGED_WINDOW, CHANGED_WINDOW)
    energy_before = np.maximum(cv2.blur(fine[0] * fine[0], window), 0)
    energy_after = np.maximum(cv2.blur(fine[1] * fine[1], window), 0)
    shared = cv2.blur(fine[0] * fine[1], window)
    spread = np.sqrt(energy_before * energy_after) + 1e-6
    kept = np.clip(shared / spread, 0, None) * np.minimum(
        1, np.sqrt(energy_after / (energy_before + 1e-6))
    )
    detailed = energy_before > DETAIL_ENERGY
    moved = cv2.blur(np.abs(grey[0] - grey[1]), window) > CHANGED_MEAN_DIFF
    changed = (moved | (detailed & (kept < DETAIL_GONE))).astype(np.uint8)
    changed = cv2.morphologyEx(changed, cv2.MORPH_OPEN, np.ones((7, 7), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(changed)
    return [
        Box(float(x), float(y), float(x + w), float(y + h))
        for x, y, w, h, area in stats[1:count]
        if area >= CHANGED_MIN_AREA
    ]


def false_regions(regions: Sequence[Box], label: ImageLabel) -> int:
    heads = [f.head.scaled_about_center(HEAD_SLACK) for f in label.faces]
    return sum(not any(_touches(r, h) for h in heads) for r in regions)


def _touches(a: Box, b: Box) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def score_pixels(score: ToolScore, label: ImageLabel, before: Pixels, after: Pixels | None) -> None:
    shown = after if after is not None and after.shape == before.shape else before
    for index, face in enumerate(label.faces):
        hit = redacted(before, shown, face.core)
        if face.difficult:
            score.difficult.add(hit)
            continue
        score.bands[face.band].add(hit)
        for condition in face.conditions:
            score.conditions.setdefault(condition, Tally()).add(hit)
        if not hit:
            score.missed.append({"image": label.name, "face": index, "band": face.band})
    regions = false_regions(changed_regions(before, shown), label)
    score.false_regions.append(regions)
    if label.negative:
        score.negatives_kept.add(regions == 0)


def head_coverage(head: Box, masks: Pixels) -> float:
    """Share of the ellipse inside ``head`` that ``masks`` covers."""
    ellipse = np.zeros_like(masks)
    cx, cy = head.center
    axes = (max(1, round(head.width / 2)), max(1, round(head.height / 2)))
    cv2.ellipse(ellipse, (round(cx), round(cy)), axes, 0, 0, 360, (1,), thickness=-1)
    inside = int(ellipse.sum())
    return float((ellipse & masks).sum()) / inside if inside else 0.0


def redaction_masks(shape: tuple[int, int], findings: Sequence[Any]) -> Pixels:
    """Every face finding's redacted ellipse, as the pipeline drew it, on one mask."""
    masks = np.zeros(shape, dtype=np.uint8)
    for record in findings:
        if record.kind == FACE:
            masks |= face_mask(shape, Box(*record.box), FACES_ONLY)
    return masks


def score_redactor_geometry(
    score: ToolScore, label: ImageLabel, before: Pixels, after: Pixels, report: Any
) -> None:
    masks = redaction_masks(before.shape[:2], report.findings)
    for face in label.faces:
        if not face.difficult and redacted(before, after, face.core):
            score.coverage.append(head_coverage(face.head, masks))


def evaluate(
    labels: Sequence[ImageLabel],
    work: Path,
    runs: int,
    with_peers: bool,
    baseline: Path | None = None,
) -> dict[str, Any]:
    """Every tool on every labelled image; the scores and the per-tool summaries."""
    folder = work / "images"
    folder.mkdir(parents=True, exist_ok=True)
    paths, befores = [], {}
    for label in labels:
        data = image_bytes(label.name)
        path = folder / (label.name.replace(":", "_") + (".png" if ":" in label.name else ""))
        path.write_bytes(data)
        paths.append(path)
        befores[label.name] = upright(data)
    ours = ToolScore("redactor")
    pipeline = Pipeline.build(FACES_ONLY)
    for label, path in zip(labels, paths, strict=True):
        result = pipeline.run(path.read_bytes())
        after = upright(result.output) if result.output else None
        score_pixels(ours, label, befores[label.name], after)
        if after is not None:
            score_redactor_geometry(ours, label, befores[label.name], after, result.report)
    scores = {"redactor": ours}
    if with_peers:
        tools = [TOOLS_BY_LABEL[label] for label in TOOLS.values()]
        if baseline is not None:
            tools.append(baseline_tool(baseline))
        timed = peers.run_tools(tools, paths, runs, {}, work / "outputs")
        ours.images_per_s = timed[0].throughput
        for tool, result in zip(tools[1:], timed[1:], strict=True):
            key = "deface" if tool.driver == "deface" else "baseline"
            scores[key] = ToolScore(key, images_per_s=result.throughput)
            out = work / "outputs" / tool.folder / "0"
            for label, path in zip(labels, paths, strict=True):
                after = _read(out / f"{path.stem}.jpg")
                score_pixels(scores[key], label, befores[label.name], after)
    return {name: s.summary() for name, s in scores.items()}


def _read(path: Path) -> Pixels | None:
    if not path.is_file():
        return None
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _cell(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _count(entry: dict[str, Any]) -> str:
    return f"{entry['found']}/{entry['total']}"


def tables(results: dict[str, Any]) -> list[Table]:
    tools = list(results)
    head = Table(title="Faces in real photos (bench/data/real_faces.json)")
    head.add_column("figure")
    for tool in tools:
        head.add_column(tool, justify="right")
    rows = (
        ("recall, faces >= 24 px", "recall_24_up"),
        ("recall, faces < 24 px", "recall_under_24"),
        ("recall, difficult faces", "recall_difficult"),
        ("head coverage (mean)", "head_coverage_mean"),
        ("heads covered >= 0.9", "head_coverage_at_least_0_9"),
        ("false-positive regions / image", "false_positive_regions_per_image"),
        ("images/s, faces only, 2 processes", "images_per_s"),
    )
    for title, key in rows:
        head.add_row(title, *(_cell(results[t][key]) for t in tools))
    head.add_row(
        "negatives kept",
        *(
            f"{results[t]['negatives_kept']['found']}/{results[t]['negatives_kept']['total']}"
            for t in tools
        ),
    )
    groups = Table(title="Recall by head width and by condition (not difficult)")
    groups.add_column("group")
    for tool in tools:
        groups.add_column(tool, justify="right")
    for key, names in (("by_band", [b[2] for b in BANDS]), ("by_condition", None)):
        for name in names or sorted({c for t in tools for c in results[t][key]}):
            cells = []
            for tool in tools:
                entry = results[tool][key].get(name)
                cells.append(
                    "-"
                    if not entry
                    else f"{_cell(entry['rate'])} ({entry['found']}/{entry['total']})"
                )
            groups.add_row(name, *cells)
    return [head, groups]


def run(
    quick: bool,
    out: Path,
    runs: int | None = None,
    labels_path: Path = LABELS,
    with_peers: bool = True,
    baseline: Path | None = None,
) -> dict[str, Any]:
    """The section as ``bench.eval`` and this module's command run it."""
    labels = load_labels(labels_path)
    if quick:
        labels = [label for label in labels if label.name in QUICK_IMAGES]
    work = out.parent / f"{out.stem}-work"
    with peers.LoadSampler() as load:
        results = evaluate(labels, work, runs or 3, with_peers and not quick, baseline)
    return {
        "labels": labels_path.name,
        "load_average_during": load.summary(),
        "images": len(labels),
        "faces": sum(len(label.faces) for label in labels),
        "negatives": sum(label.negative for label in labels),
        "machine": peers.describe_machine(),
        "tools": results,
    }


@click.command()
@click.option("--quick", is_flag=True, help="Redactor alone on two images: a smoke test.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=ROOT / "bench-out" / "real-faces.json",
    show_default=True,
)
@click.option("--runs", type=click.IntRange(1), default=None, help="Timed runs (default 3).")
@click.option(
    "--labels",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=LABELS,
    help="Another label file of the same schema.",
)
@click.option("--no-peers", is_flag=True, help="Redactor alone, untimed (a quicker look).")
@click.option(
    "--baseline",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Also run redactor faces-only from this other checkout (before/after, one run).",
)
def main(
    quick: bool, out: Path, runs: int | None, labels: Path, no_peers: bool, baseline: Path | None
) -> None:
    """Score face redaction on the labelled real photos; see the module docstring."""
    report = run(quick, out, runs, labels, with_peers=not no_peers, baseline=baseline)
    console = Console()
    for view in tables(report["tools"]):
        console.print(view)
    console.print(f"load average during the run (2 cores): {report['load_average_during']}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    console.print(f"saved {out}")


if __name__ == "__main__":
    main()
