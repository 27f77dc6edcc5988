"""One tool's worker process for ``bench.peers``: load once, warm up, redact on each "go".

    python bench/peer_driver.py TOOL --out DIR [--offset N] [--spacy-model DIR] IMAGE...

``bench.peers`` runs this file with each tool's own interpreter (its own virtual
environment), so it imports nothing from this repository except, for the ``redactor-*``
tools, redactor itself. Every tool gets the same treatment: its models load once, one
image is redacted as a warm-up, then each ``go`` line on stdin redacts every image
(starting at ``--offset``, so two processes do not work on the same image at once),
writes the results to ``DIR`` and prints one JSON line with the seconds per image and the
wall time. EOF on stdin ends it with a last line holding the peak RSS. Anything a tool
prints goes to stderr: stdout carries only these JSON lines.

Tools, each with its documented defaults:

* ``redactor-faces``, ``redactor-full``: ``Pipeline.run`` on the file's bytes.
* ``deface``: the CLI's own ``image_detect`` (threshold 0.2, blur in an ellipse grown
  1.3 times, CenterFace at full resolution), with ONNX Runtime held to ``--threads``.
* ``presidio``: ``ImageRedactorEngine.redact`` (Tesseract OCR, black fill), with an
  analyzer whose spaCy pipeline is the blank one in ``--spacy-model`` (see bench/peers.py).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

Redact = Callable[[Path, Path], None]


def _redactor(faces_only: bool, threads: int) -> Redact:
    from redactor.allocator import keep_large_buffers
    from redactor.threads import limit_threads

    limit_threads(threads)
    keep_large_buffers()
    from redactor.options import PipelineOptions
    from redactor.pipeline import Pipeline

    options = PipelineOptions(text="off", codes=False) if faces_only else PipelineOptions()
    pipeline = Pipeline.build(options)

    def redact(source: Path, target: Path) -> None:
        result = pipeline.run(source.read_bytes())
        if result.output is None:
            raise RuntimeError(f"redactor failed on {source.name}: {result.report.error_code}")
        target.write_bytes(result.output)

    return redact


def _limit_onnxruntime(threads: int) -> None:
    """Make every ONNX Runtime session use ``threads`` threads (deface offers no option)."""
    import onnxruntime

    original = onnxruntime.InferenceSession

    def session(*args: Any, **kwargs: Any) -> Any:
        options = kwargs.get("sess_options") or onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        kwargs["sess_options"] = options
        return original(*args, **kwargs)

    onnxruntime.InferenceSession = session


def _deface(threads: int) -> Redact:
    _limit_onnxruntime(threads)
    import cv2
    from deface.centerface import CenterFace
    from deface.deface import image_detect

    cv2.setNumThreads(threads)
    # The CPU provider by name (the CLI's --ep): ONNX Runtime 1.31 lists Azure's first.
    centerface = CenterFace(
        in_shape=None, backend="auto", override_execution_provider="CPUExecutionProvider"
    )

    def redact(source: Path, target: Path) -> None:
        image_detect(
            ipath=str(source),
            opath=str(target),
            centerface=centerface,
            threshold=0.2,
            replacewith="blur",
            mask_scale=1.3,
            ellipse=True,
            draw_scores=False,
            enable_preview=False,
            keep_metadata=False,
        )

    return redact


def _presidio(spacy_model: str) -> Redact:
    from PIL import Image
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_image_redactor import ImageAnalyzerEngine, ImageRedactorEngine

    nlp = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": spacy_model}],
        }
    ).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
    engine = ImageRedactorEngine(ImageAnalyzerEngine(analyzer_engine=analyzer))

    def redact(source: Path, target: Path) -> None:
        with Image.open(source) as image:
            redacted = engine.redact(image.convert("RGB"), fill=(0, 0, 0))
        redacted.save(target, "JPEG", quality=92)

    return redact


def build(tool: str, threads: int, spacy_model: str | None) -> Redact:
    if tool in ("redactor-faces", "redactor-full"):
        return _redactor(tool == "redactor-faces", threads)
    if tool == "deface":
        return _deface(threads)
    if tool == "presidio":
        if spacy_model is None:
            raise SystemExit("presidio needs --spacy-model")
        return _presidio(spacy_model)
    raise SystemExit(
        f"unknown tool {tool!r}; choose redactor-faces, redactor-full, deface, presidio"
    )


def _run_all(redact: Redact, images: list[Path], out: Path) -> dict[str, Any]:
    seconds = []
    started = time.perf_counter()
    for image in images:
        begin = time.perf_counter()
        redact(image, out / f"{image.stem}.jpg")
        seconds.append(time.perf_counter() - begin)
    return {"wall_s": time.perf_counter() - started, "seconds": seconds}


def _send(channel: TextIO, message: dict[str, Any]) -> None:
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tool")
    parser.add_argument("images", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--spacy-model", default=None)
    parser.add_argument("--no-warm-up", action="store_true", help="for smoke tests only")
    args = parser.parse_args(argv)
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever the tools print goes to stderr
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    redact = build(args.tool, args.threads, args.spacy_model)
    load_s = time.perf_counter() - started
    images = args.images[args.offset :] + args.images[: args.offset]
    warm = time.perf_counter()
    if not args.no_warm_up:
        redact(images[0], args.out / "warm-up.jpg")
    _send(channel, {"load_s": load_s, "first_image_s": time.perf_counter() - warm})
    for line in sys.stdin:
        if line.strip() == "go":
            _send(channel, _run_all(redact, images, args.out))
    # Tesseract runs in child processes; their RSS is not counted (forks inflate it).
    _send(channel, {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
