"""Make the static INT8 (QDQ) PP-OCRv6 text detector of models/weights (a maintainer's tool).

    PYTHONPATH=. .venv/bin/python scripts/ppocr_int8.py [--recipe NAME] [--out models/weights]

Needs ``onnx`` (a maintainer's tool, not a run-time dependency: ``pip install onnx==1.20.1
-c constraints.txt``; later ``onnx`` releases need a protobuf that MediaPipe refuses). The
source is the detector of the installed RapidOCR wheel, checked against
``models/manifest.json`` first.

Calibration: the inputs the full pipeline really gives the two networks (the two-scale
first pass, the region detections, every line's recognition) while it redacts generated
scenes only: the corpus builder's text scenes and identity documents (``bench/corpus.py``)
under a seed of their own, never the evaluation corpus's, never a real image. Two
recipes (``--recipe``): ``default``, every n-th of the detector's inputs on 24 text
scenes and 8 documents, 48 kept; ``small-print``, 16 inputs from 16 text scenes at
10-16 px and 8 from 8 small documents (a card at 0.3 of the photo's width), under a
seed of its own (docs/benchmarks.md, "Small-print calibration"). The network
is converted to opset 13 (per-channel scales need it), optimised and shape-inferred by
``quant_pre_process``, and quantised with ``quantize_static``: QDQ, per-channel signed
weights, unsigned activations, ranges from the 0.01 and 99.99 percentiles of each
activation (min-max ranges, stretched by rare outliers, lost 0.05 of the real documents'
labels kept). Percentiles need inputs of one shape: each is padded with zeros (the
normalised mid-grey) to 480x640, the largest canvas the pipeline gives the detector on
the default recipe's scenes; a larger input (small print's regions are detected at full
scale, up to 416x1280 on the small-print scenes) is cut into 480x640 tiles first.
Everything is deterministic; the file written must match the sha256 in
models/manifest.json.

The recogniser is not quantised: no variant tried (min-max or percentile, every node or
the convolutional backbone only) read more than 77 % of the evaluation lines as the
float network does (docs/benchmarks.md, issue 18).
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import version_converter
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

ROOT = Path(__file__).resolve().parents[1]
#: Not the evaluation corpus's seed (bench.corpus.SEED): calibration never sees its scenes.
CALIBRATION_SEED = 7_351
#: The small-print recipe's: neither the corpus's nor the default recipe's.
SMALL_PRINT_SEED = 7_919
TEXT_SCENES = 24
DOCUMENTS = 8
#: Detector inputs kept for calibration (every n-th call, in order): enough to see every
#: kind of surface, few enough to hold the activations' histograms in memory.
KEPT = 48
#: Text heights (px) of the small-print recipe's text scenes, in turn.
SMALL_PRINT_SIZES = (10, 11, 12, 13, 14, 15, 16)
#: Every calibration input is padded to this (height, width) (see the docstring).
CANVAS = (480, 640)
SOURCE = "ppocr-det"
TARGET = "ppocr-det-int8.onnx"


class _Recording:
    """An ONNX Runtime session that keeps a copy of every input it is given."""

    def __init__(self, session: Any, store: list[np.ndarray]) -> None:
        self._session = session
        self._store = store

    def run(self, names: Any, feeds: dict[str, np.ndarray], *args: Any, **kwargs: Any) -> Any:
        self._store.extend(np.array(value) for value in feeds.values())
        return self._session.run(names, feeds, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


@dataclass(frozen=True)
class Group:
    """Generated scenes (image bytes, made from a seed) and how many of the detector
    inputs the pipeline gives on them are kept (every n-th, in order)."""

    scenes: Callable[[int], list[bytes]]
    kept: int


def _default_scenes(seed: int) -> list[bytes]:
    from bench.corpus import document_case, text_case

    scenes = [text_case(i, seed) for i in range(TEXT_SCENES)]
    scenes += [document_case(i, seed) for i in range(DOCUMENTS)]
    return [data for _, data in scenes]


def _small_text_scenes(seed: int) -> list[bytes]:
    from bench.corpus import text_case

    sizes = SMALL_PRINT_SIZES
    return [text_case(i, seed, size=sizes[i % len(sizes)])[1] for i in range(16)]


def _small_documents(seed: int) -> list[bytes]:
    from bench.corpus import document_case

    return [document_case(i, seed, small=True)[1] for i in range(8)]


#: Calibration recipes by name: a seed and the scene groups the inputs come from.
RECIPES: dict[str, tuple[int, tuple[Group, ...]]] = {
    "default": (CALIBRATION_SEED, (Group(_default_scenes, KEPT),)),
    "small-print": (SMALL_PRINT_SEED, (Group(_small_text_scenes, 16), Group(_small_documents, 8))),
}


def calibration_inputs(recipe: str = "default") -> list[np.ndarray]:
    """What the pipeline feeds the detector on the recipe's generated scenes."""
    from redactor.options import PipelineOptions
    from redactor.pipeline import Pipeline
    from redactor.threads import limit_threads

    limit_threads(1)
    # Calibrate on what the float detector is given.
    pipeline = Pipeline.build(PipelineOptions(ocr_precision="fp32"))
    engine = next(d for d in pipeline.detectors if d.name == "text")._engine
    detector = engine._ocr._load_det_model()
    found: list[np.ndarray] = []
    detector.session.session = _Recording(detector.session.session, found)
    seed, groups = RECIPES[recipe]
    inputs: list[np.ndarray] = []
    for group in groups:
        found.clear()
        for data in group.scenes(seed):
            if not pipeline.run(data).ok:
                raise SystemExit("a calibration scene failed in the pipeline")
        candidates = [tile for item in found for tile in tiles(item)]
        if len(candidates) < group.kept:
            raise SystemExit(f"{len(candidates)} detector inputs; the recipe keeps {group.kept}")
        step = max(1, len(candidates) // group.kept)
        inputs += [padded(item) for item in candidates[::step][: group.kept]]
    return inputs


def tiles(item: np.ndarray) -> list[np.ndarray]:
    """``item`` (1, 3, height, width), or, when it is larger than CANVAS (a wide strip of
    small print detected at full scale), its CANVAS-sized tiles in reading order: the
    network is convolutional, so a tile's activations are the input's, at the same text
    scale (shrinking it would calibrate on larger-looking print)."""
    height, width = item.shape[2:]
    if height <= CANVAS[0] and width <= CANVAS[1]:
        return [item]
    return [
        item[:, :, y : y + CANVAS[0], x : x + CANVAS[1]]
        for y in range(0, height, CANVAS[0])
        for x in range(0, width, CANVAS[1])
    ]


def padded(item: np.ndarray) -> np.ndarray:
    """``item`` (1, 3, height, width) padded with zeros at the bottom and right to CANVAS."""
    if item.shape[2] > CANVAS[0] or item.shape[3] > CANVAS[1]:
        raise SystemExit(f"a calibration input of {item.shape} is larger than {CANVAS}")
    out = np.zeros((1, 3, *CANVAS), np.float32)
    out[:, :, : item.shape[2], : item.shape[3]] = item
    return out


class _Feeds(CalibrationDataReader):  # type: ignore[misc]
    """``quantize_static``'s calibration reader over recorded inputs."""

    def __init__(self, name: str, inputs: list[np.ndarray]) -> None:
        self._items: Iterator[np.ndarray] = iter(inputs)
        self._name = name

    def get_next(self) -> dict[str, np.ndarray] | None:
        item = next(self._items, None)
        return None if item is None else {self._name: item}


def quantise(source: Path, target: Path, inputs: list[np.ndarray]) -> None:
    model = onnx.load(source)
    name = model.graph.input[0].name
    with tempfile.TemporaryDirectory() as scratch:
        opset13, prepared = Path(scratch, "opset13.onnx"), Path(scratch, "prepared.onnx")
        onnx.save(version_converter.convert_version(model, 13), opset13)
        # The networks' batch, height and width are symbolic: ONNX's shape inference
        # is enough, the symbolic one stops at them.
        quant_pre_process(opset13, prepared, skip_symbolic_shape=True)
        quantize_static(
            prepared,
            target,
            _Feeds(name, inputs),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.Percentile,
            # Histograms every 2 inputs: all 48 inputs' activations at once exhaust memory.
            extra_options={"CalibPercentile": 99.99, "CalibMaxIntermediateOutputs": 2},
        )


def main() -> None:
    import models

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "weights")
    parser.add_argument(
        "--recipe",
        choices=list(RECIPES),
        default="default",
        help="calibration scenes (see the docstring); default: the shipped file's",
    )
    args = parser.parse_args()
    target = args.out / TARGET
    quantise(models.verified_path(SOURCE), target, calibration_inputs(args.recipe))
    print(target, hashlib.sha256(target.read_bytes()).hexdigest())


if __name__ == "__main__":
    main()
