"""Run redactor over the benchmark corpus and score what comes out.

``python -m bench.eval [--quick] [--out DIR]`` builds the corpus into ``DIR/corpus``
(``DIR/corpus-quick``), runs the pipeline with default options and faces-only on
every image, prints the metrics and writes ``DIR/eval.json`` (``eval-quick.json``):
per-metric values and per-case details (ids, kinds, boxes, scores; never personal text).
The full run then scores the labelled real identity documents apart
(:mod:`bench.real_documents`, default options) under ``real_documents``.
Then the real-photo face section (:mod:`bench.real_faces`, beside deface; ``--quick``:
redactor alone on two photos; ``--no-peers``: redactor alone on every photo, deface
neither installed nor run) goes to ``DIR/real-faces.json``, reported apart.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bench import real_documents, real_faces
from bench.cases import Corpus
from bench.corpus import generate
from bench.reading import RapidReader
from bench.scorer import (
    FACE_REDACTED_BELOW,
    PRODUCT_SSIM_MIN,
    READABLE_WITHIN,
    CaseScore,
    Scorer,
    aggregate,
)
from redactor.cli import ocr_precision as precision_option
from redactor.options import PipelineOptions
from redactor.pipeline import Pipeline
from redactor.text.ocr import Precision
from testkit.paths import ROOT

DEFAULT_OUT = ROOT / "bench-out"
MODES: dict[str, PipelineOptions] = {
    "default": PipelineOptions(),
    "faces_only": PipelineOptions(text="off", codes=False),
    # The speed levers of docs/benchmarks.md, scored for what they cost in recall.
    "det_full_size": PipelineOptions(ocr_detection_side=None),
    "det_960": PipelineOptions(ocr_detection_side=960),
    # Text detection on the whole regions with detail, without the two-scale first pass.
    "text_one_scale": PipelineOptions(ocr_two_scale=False),
    "faces_min_24": PipelineOptions(text="off", codes=False, min_face_px=24),
    "faces_min_32": PipelineOptions(text="off", codes=False, min_face_px=32),
}
DEFAULT_MODES = ("default", "faces_only")
HEADLINES = (
    ("face_recall", "face recall"),
    ("redaction_precision", "redaction precision"),
    ("false_positives_per_image", "false-positive regions / image"),
    ("outside_changed_fraction", "share of pixels changed outside truth"),
    ("text_recall", "personal-text recall"),
    ("product_kept", "product text kept"),
    ("document_labels_kept", "generated-document labels kept"),
    ("metadata_clean", "metadata clean"),
    ("orientation_correct", "orientation correct"),
    ("size_correct", "upright size correct"),
    ("seconds_per_image", "seconds / image"),
)

Progressed = Callable[[], object]


def run_case(pipeline: Pipeline, corpus: Corpus, index: int, scorer: Scorer) -> CaseScore:
    """One image through the pipeline and the scorer; a pipeline failure is scored, not raised."""
    case = corpus.cases[index]
    source = corpus.read(case)
    start = time.perf_counter()
    try:
        result = pipeline.run(source)
        output, error = result.output, result.report.error_code
    except Exception as exc:
        output, error = None, f"pipeline raised {type(exc).__name__}"
    return scorer.score(case, source, output, error, time.perf_counter() - start)


def run_mode(
    options: PipelineOptions, corpus: Corpus, scorer: Scorer, step: Progressed
) -> list[CaseScore]:
    pipeline = Pipeline.build(options)
    scores = []
    for index in range(len(corpus.cases)):
        scores.append(run_case(pipeline, corpus, index, scorer))
        step()
    return scores


def evaluate(
    corpus: Corpus,
    scorer: Scorer,
    console: Console,
    modes: Sequence[str] = DEFAULT_MODES,
    precision: Precision = "fp32",
) -> dict[str, Any]:
    """Each mode over the corpus, its text detector at ``precision`` (the scorer's own
    reader always stays float): metrics, options and per-case scores."""
    results: dict[str, Any] = {}
    with Progress(console=console, transient=True) as progress:
        for mode in modes:
            options = with_precision(MODES[mode], precision)
            task = progress.add_task(mode, total=len(corpus.cases))
            scores = run_mode(options, corpus, scorer, partial(progress.advance, task))
            results[mode] = {
                "options": options.model_dump(mode="json"),
                "metrics": aggregate(scores),
                "cases": [s.to_dict() for s in scores],
            }
    return results


def with_precision(options: PipelineOptions, precision: Precision) -> PipelineOptions:
    """``options`` with the text detector at ``precision`` (validated again)."""
    return PipelineOptions.model_validate({**options.model_dump(), "ocr_precision": precision})


def report(corpus: Corpus, results: dict[str, Any]) -> dict[str, Any]:
    return {
        "corpus": {
            "root": str(corpus.root),
            "seed": corpus.seed,
            "quick": corpus.quick,
            "cases": len(corpus.cases),
            "kinds": {c.kind: sum(x.kind == c.kind for x in corpus.cases) for c in corpus.cases},
        },
        "thresholds": {
            "face_redacted_below_detail_kept": FACE_REDACTED_BELOW,
            "text_readable_within_distance": READABLE_WITHIN,
            "product_ssim_min": PRODUCT_SSIM_MIN,
        },
        "modes": results,
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically: a reader never sees half a report."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=1))
    partial.replace(path)


def _cell(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def headline_table(results: dict[str, Any]) -> Table:
    table = Table(title="redactor benchmark")
    table.add_column("metric")
    for mode in results:
        table.add_column(mode, justify="right")
    for key, label in HEADLINES:
        table.add_row(label, *(_cell(r["metrics"][key]) for r in results.values()))
    return table


def breakdown_table(results: dict[str, Any], key: str, title: str) -> Table:
    table = Table(title=title)
    table.add_column("group")
    for mode in results:
        table.add_column(mode, justify="right")
    groups = sorted({g for r in results.values() for g in r["metrics"][key]})
    for group in groups:
        cells = []
        for r in results.values():
            entry = r["metrics"][key].get(group)
            cells.append("-" if entry is None else f"{_cell(entry['rate'])} (n={entry['n']})")
        table.add_row(group, *cells)
    return table


def main(argv: Sequence[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description="Score redactor on the labelled benchmark corpus.")
    parser.add_argument("--quick", action="store_true", help="12 images (the smoke test)")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="folder for the corpus and eval.json"
    )
    parser.add_argument(
        "--modes",
        default=",".join(DEFAULT_MODES),
        help=f"comma-separated pipeline modes to score, of: {', '.join(MODES)}",
    )
    parser.add_argument(
        "--no-peers",
        action="store_true",
        help="the real-photo face section with redactor alone (deface is not installed or run)",
    )
    precision_option.add_argument(parser)
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        parser.error(f"unknown mode(s) {unknown}; choose from {', '.join(MODES)}")
    precision = precision_option.precision(args.ocr_precision)
    os.environ.setdefault("GLOG_minloglevel", "2")
    logging.basicConfig(level=logging.WARNING)
    console = Console()
    out: Path = args.out
    suffix = "-quick" if args.quick else ""
    out.mkdir(parents=True, exist_ok=True)
    corpus = generate(out / f"corpus{suffix}", quick=args.quick)
    console.print(f"corpus: {len(corpus.cases)} images in {corpus.root}")
    reader = RapidReader()
    results = evaluate(corpus, Scorer(reader), console, modes, precision)
    tag = "" if tuple(modes) == DEFAULT_MODES else "-" + "-".join(modes)
    tag += "" if precision == precision_option.DEFAULT else f"-{precision}"
    path = out / f"eval{suffix}{tag}.json"
    data = report(corpus, results)
    real = None
    if not args.quick and real_documents.LABELS.is_file():
        labels = real_documents.load_labels()
        runner = real_documents.pipeline_runner(PipelineOptions(ocr_precision=precision))
        real = real_documents.evaluate(reader, labels, runner)
        data["real_documents"] = real
    write_json(path, data)
    console.print(headline_table(results))
    console.print(breakdown_table(results, "face_recall_by_width", "face recall by face width"))
    console.print(breakdown_table(results, "text_recall_by_kind", "personal-text recall by kind"))
    if real is not None:
        console.print(real_documents.table(real))
    failed = {mode: r["metrics"]["failed"] for mode, r in results.items() if r["metrics"]["failed"]}
    if failed:
        console.print(f"[red]pipeline failures (counted as misses): {failed}")
    console.print(f"details: {path}")
    real_path = out / f"real-faces{suffix}.json"
    real = real_faces.run(args.quick, real_path, with_peers=not args.no_peers)
    write_json(real_path, real)
    for view in real_faces.tables(real["tools"]):
        console.print(view)
    console.print(f"real photos: {real_path}")
    return path


if __name__ == "__main__":
    main()
