"""The real-document section of the eval: identity-document specimens labelled by eye.

``python -m bench.real_documents [--out DIR] [--labels FILE]`` runs the default pipeline
over every image of ``bench/data/real_documents.json`` (documents, personal items and
items to keep, as boxes with kinds; how it was made is in its ``_about``; images are
read in place from ``../shared/test-images``),
scores the outputs by their pixels and what OCR can still read, prints the figures
and writes ``DIR/real-documents.json`` (boxes, kinds, scores; never text).
``bench.eval`` runs the same section after the generated scenes.

Decisions, per labelled item (the label file holds no text, so what OCR reads in the
input crop stands for the item's text):

* **Field or MRZ line redacted**: the box is *covered* (at least :data:`COVERED_SHARE`
  of its ink, the pixels with local contrast in the input, was flattened or changed in
  the output) and OCR of the output crop no longer reads what it read in the input
  (normalised edit distance above :data:`bench.scorer.READABLE_WITHIN`).
* **Portrait, ghost portrait, signature, fingerprint, barcode redacted**: the box lost
  its detail (:func:`bench.scorer.detail_kept` below :data:`FACE_REDACTED_BELOW`).
* **Label, title, country kept**: OCR of the output crop reads what it read in the input
  (judged only where the input reads at least two characters).

Each item is read alone: the crop's margin (half the item's height, so OCR sees whole
glyphs) is painted with the paper's colour around the item's box. Boxes of a label and
the value under it meet halfway, so a margin reaches into the neighbour: read with it,
a value whose kept label sits right above it counted as "still readable" (the label was
read) and a label next to a redacted value as "lost". ``--context-reading`` scores the
first way, for comparison with figures measured before 2026-12-03.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bench.cases import DATA
from bench.reading import RapidReader, TextReader, normalise, reading_box, substring_distance
from bench.scorer import FACE_REDACTED_BELOW, READABLE_WITHIN, Pixels, decode_upright, detail_kept
from redactor.cli import ocr_precision as precision_option
from redactor.geometry import Box
from redactor.options import PipelineOptions
from redactor.pipeline import Pipeline
from testkit.paths import ROOT, shared_path

LABELS = DATA / "real_documents.json"
DEFAULT_OUT = ROOT / "bench-out"
TEXT_KINDS = frozenset({"field", "mrz"})
#: Share of an item's ink that must be flattened or changed for its box to be covered.
COVERED_SHARE = 0.9
#: Ink: input pixels whose 5x5 grey-level spread is at least this...
INK_SPREAD = 12.0
#: ...covered when the output's spread there fell below this, or the pixel changed by
#: more than this many levels.
FLAT_SPREAD = 4.0
CHANGED_LEVELS = 40.0
#: Crops are scaled so the item is this tall before OCR (see bench.scorer.READING_HEIGHT).
READING_HEIGHT = 40.0
#: Keep items read as fewer characters than this in the input are not judged.
MIN_READ = 2
#: Read each item alone: the reading margin around its box is painted with the paper's
#: colour (see :func:`read_crop`). ``--context-reading`` turns it off (the first
#: scorer, under which a value next to a kept label "stays readable": the label is read).
ISOLATED = True


@dataclass(frozen=True)
class Item:
    box: Box
    kind: str
    field: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Truth:
    documents: list[Item]
    personal: list[Item]
    keep: list[Item]


@dataclass(frozen=True)
class ItemScore:
    box: list[float]
    kind: str
    field: str | None
    covered: float | None
    input_chars: int
    output_distance: float | None
    detail_kept: float | None
    ok: bool


@dataclass
class ImageScore:
    name: str
    ok: bool
    error: str | None
    seconds: float
    personal: list[ItemScore] = field(default_factory=list)
    keep: list[ItemScore] = field(default_factory=list)
    documents_reported: int = 0
    documents_labelled: int = 0


def _box(raw: Sequence[float]) -> Box:
    return Box(*(float(v) for v in raw))


def load_labels(path: Path = LABELS) -> dict[str, Truth]:
    """The labelled images by file name (see the module docstring for the schema)."""
    images = json.loads(path.read_text())["images"]
    truth = {}
    for name, entry in images.items():
        truth[name] = Truth(
            documents=[
                Item(_box(d["box"]), d.get("type", "document")) for d in entry.get("documents", [])
            ],
            personal=[
                Item(_box(p["box"]), p["kind"], p.get("field"), p.get("line"))
                for p in entry.get("personal", [])
            ],
            keep=[Item(_box(k["box"]), k["kind"]) for k in entry.get("keep", [])],
        )
    return truth


def _crop(pixels: Pixels, box: Box) -> Pixels:
    h, w = pixels.shape[:2]
    x0, y0, x1, y1 = box.clipped(w, h).to_int()
    return pixels[y0:y1, x0:x1]


def _spread(grey: Any) -> Any:
    kernel = np.ones((5, 5), np.uint8)
    return cv2.dilate(grey, kernel).astype(np.float32) - cv2.erode(grey, kernel).astype(np.float32)


def covered_share(before: Pixels, after: Pixels, box: Box) -> float:
    """Share of the box's ink (input pixels with local contrast) flattened or changed."""
    a = cv2.cvtColor(np.ascontiguousarray(_crop(before, box)), cv2.COLOR_RGB2GRAY)
    b = cv2.cvtColor(np.ascontiguousarray(_crop(after, box)), cv2.COLOR_RGB2GRAY)
    if a.size == 0:
        return 0.0
    ink = _spread(a) >= INK_SPREAD
    if not ink.any():
        return 1.0
    changed = np.abs(a.astype(np.float32) - b.astype(np.float32)) > CHANGED_LEVELS
    done = (_spread(b) < FLAT_SPREAD) | changed
    return float(done[ink].mean())


def read_crop(
    reader: TextReader, pixels: Pixels, box: Box, background: Pixels | None = None
) -> str:
    """What OCR reads around ``box``, normalised (the crop scaled as bench.scorer does).

    The crop has a margin so OCR sees whole glyphs; with :data:`ISOLATED` the margin is
    painted with the background colour of ``background`` (the input) around the box, so
    what is read is the item alone and not the label above a value or the value under
    a label (their boxes meet halfway, and the margin reaches into them).
    """
    around = reading_box(box)
    crop = _crop(pixels, around)
    if crop.size == 0:
        return ""
    if ISOLATED:
        crop = _isolated(
            crop, _crop(pixels if background is None else background, around), box, around
        )
    scale = READING_HEIGHT / max(1.0, box.height)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    scaled = np.asarray(cv2.resize(crop, size, interpolation=interpolation), dtype=np.uint8)
    return "".join(normalise(line) for line in reader.read(scaled))


def _isolated(crop: Pixels, reference: Pixels, box: Box, around: Box) -> Pixels:
    """``crop`` with everything outside ``box`` painted the median colour of the
    reference's ring just outside ``box`` (the paper around the item)."""
    height, width = crop.shape[:2]
    x0 = int(max(0, round(box.x0 - max(0.0, around.x0))))
    y0 = int(max(0, round(box.y0 - max(0.0, around.y0))))
    x1, y1 = min(width, x0 + round(box.width)), min(height, y0 + round(box.height))
    if x1 <= x0 or y1 <= y0:
        return crop
    outside = np.ones((height, width), bool)
    outside[y0:y1, x0:x1] = False
    ring = outside.copy()
    ring[: max(0, y0 - 2), :] = False
    ring[y1 + 2 :, :] = False
    ring[:, : max(0, x0 - 2)] = False
    ring[:, x1 + 2 :] = False
    source = reference if reference.shape == crop.shape else crop
    colour = (
        np.median(source[ring], axis=0) if ring.any() else np.median(source.reshape(-1, 3), axis=0)
    )
    out = crop.copy()
    out[outside] = colour.astype(out.dtype)
    return out


def score_personal(
    reader: TextReader, before: Pixels, after: Pixels | None, item: Item
) -> ItemScore:
    box = item.box.as_list()
    if after is None:
        return ItemScore(box, item.kind, item.field, None, 0, None, None, False)
    if item.kind not in TEXT_KINDS:
        kept = detail_kept(before, after, item.box)
        return ItemScore(
            box, item.kind, item.field, None, 0, None, round(kept, 3), kept < FACE_REDACTED_BELOW
        )
    share = covered_share(before, after, item.box)
    read_before = read_crop(reader, before, item.box)
    distance = (
        substring_distance(read_before, read_crop(reader, after, item.box, before))
        if read_before
        else 1.0
    )
    ok = share >= COVERED_SHARE and distance > READABLE_WITHIN
    return ItemScore(
        box, item.kind, item.field, round(share, 3), len(read_before), round(distance, 3), None, ok
    )


def score_keep(reader: TextReader, before: Pixels, after: Pixels | None, item: Item) -> ItemScore:
    box = item.box.as_list()
    read_before = read_crop(reader, before, item.box)
    if after is None:
        return ItemScore(box, item.kind, None, None, len(read_before), None, None, False)
    distance = substring_distance(read_before, read_crop(reader, after, item.box, before))
    return ItemScore(
        box,
        item.kind,
        None,
        None,
        len(read_before),
        round(distance, 3),
        None,
        distance <= READABLE_WITHIN,
    )


def score_image(
    reader: TextReader,
    name: str,
    truth: Truth,
    run: Callable[[bytes], tuple[bytes | None, str | None, int]],
) -> ImageScore:
    data = shared_path(name).read_bytes()
    start = time.perf_counter()
    output, error, documents = run(data)
    seconds = time.perf_counter() - start
    before = decode_upright(data)
    after = decode_upright(output) if output is not None else None
    if after is not None and after.shape != before.shape:
        after, error = None, error or "output size differs from input"
    score = ImageScore(name, after is not None, error, round(seconds, 3))
    score.personal = [score_personal(reader, before, after, item) for item in truth.personal]
    score.keep = [score_keep(reader, before, after, item) for item in truth.keep]
    score.documents_reported = documents
    score.documents_labelled = len(truth.documents)
    return score


def pipeline_runner(
    options: PipelineOptions | None = None,
) -> Callable[[bytes], tuple[bytes | None, str | None, int]]:
    pipeline = Pipeline.build(options or PipelineOptions())

    def run(data: bytes) -> tuple[bytes | None, str | None, int]:
        result = pipeline.run(data)
        documents = sum(f.kind == "document" for f in result.report.findings)
        return result.output, result.report.error_code, documents

    return run


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def aggregate(scores: Sequence[ImageScore]) -> dict[str, Any]:
    """Headline figures: field recall, MRZ lines, portraits and marks, labels kept."""
    personal = [p for s in scores for p in s.personal]

    def of(*kinds: str) -> list[ItemScore]:
        return [p for p in personal if p.kind in kinds]

    fields = of("field")
    judged_keep = [k for s in scores for k in s.keep if k.input_chars >= MIN_READ]
    labels = [k for k in judged_keep if k.kind in ("label", "title")]
    by_field: dict[str, list[ItemScore]] = {}
    for f in fields:
        by_field.setdefault(f.field or "other", []).append(f)
    return {
        "images": len(scores),
        "failed": sorted(s.name for s in scores if not s.ok),
        "field_recall": _rate(sum(f.ok for f in fields), len(fields)),
        "fields": len(fields),
        "mrz_lines_covered": _rate(sum(p.ok for p in of("mrz")), len(of("mrz"))),
        "mrz_lines": len(of("mrz")),
        "portraits_covered": _rate(sum(p.ok for p in of("portrait")), len(of("portrait"))),
        "portraits": len(of("portrait")),
        "marks_covered": _rate(
            sum(p.ok for p in of("ghost_portrait", "signature", "fingerprint", "barcode")),
            len(of("ghost_portrait", "signature", "fingerprint", "barcode")),
        ),
        "marks": {k: len(of(k)) for k in ("ghost_portrait", "signature", "fingerprint", "barcode")},
        "labels_kept": _rate(sum(k.ok for k in labels), len(labels)),
        "labels_judged": len(labels),
        "keep_all_kept": _rate(sum(k.ok for k in judged_keep), len(judged_keep)),
        "documents_reported": sum(s.documents_reported for s in scores),
        "documents_labelled": sum(s.documents_labelled for s in scores),
        "field_recall_by_field": {
            k: {"rate": _rate(sum(f.ok for f in v), len(v)), "n": len(v)}
            for k, v in sorted(by_field.items())
        },
        "seconds_per_image": round(float(np.mean([s.seconds for s in scores])), 3)
        if scores
        else None,
    }


HEADLINES = (
    ("field_recall", "personal-field recall"),
    ("mrz_lines_covered", "MRZ lines covered"),
    ("portraits_covered", "portraits covered"),
    ("marks_covered", "ghost portraits, signatures, fingerprints, barcodes"),
    ("labels_kept", "labels and titles still readable"),
    ("keep_all_kept", "all kept items still readable"),
    ("documents_reported", "document findings (labelled documents: documents_labelled)"),
)


def evaluate(
    reader: TextReader,
    labels: dict[str, Truth],
    run: Callable[[bytes], tuple[bytes | None, str | None, int]],
    step: Callable[[], object] = lambda: None,
) -> dict[str, Any]:
    scores = []
    for name in sorted(labels):
        scores.append(score_image(reader, name, labels[name], run))
        step()
    return {"metrics": aggregate(scores), "images": [asdict(s) for s in scores]}


def table(result: dict[str, Any]) -> Any:
    from rich.table import Table

    metrics = result["metrics"]
    out = Table(title=f"real identity documents ({metrics['images']} images, labelled by eye)")
    out.add_column("metric")
    out.add_column("value", justify="right")
    counts = {
        "field_recall": "fields",
        "mrz_lines_covered": "mrz_lines",
        "portraits_covered": "portraits",
        "labels_kept": "labels_judged",
    }
    for key, label in HEADLINES:
        value = metrics[key]
        cell = "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)
        if key in counts:
            cell += f" (n={metrics[counts[key]]})"
        if key == "documents_reported":
            cell += f" / {metrics['documents_labelled']}"
        out.add_row(label, cell)
    return out


def main(argv: Sequence[str] | None = None) -> Path | None:
    parser = argparse.ArgumentParser(description="Score redactor on labelled real documents.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument(
        "--context-reading",
        action="store_true",
        help="read items with their neighbours in the margin (the first scorer)",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        default=[],
        metavar="FILE",
        help="score only these labelled images (file names as in the labels file); "
        "a partial run for a quick look, not a headline figure",
    )
    precision_option.add_argument(parser)
    args = parser.parse_args(argv)
    precision = precision_option.precision(args.ocr_precision)
    global ISOLATED
    ISOLATED = not args.context_reading
    from rich.console import Console

    console = Console()
    if not args.labels.is_file():
        console.print(f"no real-document labels at {args.labels}: section skipped")
        return None
    labels = load_labels(args.labels)
    unknown = sorted(set(args.only) - set(labels))
    if unknown:
        parser.error(f"not in {args.labels}: {', '.join(unknown)}")
    if args.only:
        labels = {name: truth for name, truth in labels.items() if name in args.only}
    result = evaluate(
        RapidReader(), labels, pipeline_runner(PipelineOptions(ocr_precision=precision))
    )
    result["ocr_precision"] = precision
    args.out.mkdir(parents=True, exist_ok=True)
    tag = "" if precision == precision_option.DEFAULT else f"-{precision}"
    path: Path = args.out / f"real-documents{tag}.json"
    path.write_text(json.dumps(result, indent=1))
    console.print(table(result))
    console.print(f"details: {path}")
    return path


if __name__ == "__main__":
    main()
