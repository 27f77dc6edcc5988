"""Compare the OCR engines on personal-text recall and time, same images, same run.

    python bench/ocr_engines.py [--engines rapidocr easyocr] [--threads 2]

Images: the rendered test scenes (shipping label, business card and receipt, German and
Dutch labels with a number plate, a small label; seeded Faker data, known boxes) and the
hand-labelled shared photos (application form, store receipt, truck). An item counts as
found when findings cover at least 95% of its box. Time is the full text detector per
image (OCR, line reconstruction, rules), after one warm-up call; model loading is shown
apart. The output is the Markdown table kept in docs/ocr-engines.md. Only kinds and
counts are printed, never the text.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from redactor.findings import Finding
from redactor.geometry import Box
from redactor.text.detector import TextDetector
from redactor.text.engines import create_engine
from redactor.text.ocr import EngineSettings
from testkit.paths import shared_path
from testkit.photos import upright_rgb
from testkit.text_scenes import REAL_PERSONAL, REAL_PRODUCT, SCENES, Scene, label_scene

FOUND_COVERAGE = 0.95


@dataclass
class Case:
    name: str
    image: np.ndarray
    personal: list[tuple[str, Box]]
    product: list[Box]


@dataclass
class Result:
    engine: str
    load_seconds: float
    seconds: list[float] = field(default_factory=list)
    found: int = 0
    total: int = 0
    product_hits: int = 0
    missed: Counter[str] = field(default_factory=Counter)


def cases() -> list[Case]:
    rendered: dict[str, Callable[[], Scene]] = {**SCENES, "label": label_scene}
    out = []
    for name, make in rendered.items():
        scene = make()
        personal = [(i.kind or "", i.box) for i in scene.personal]
        out.append(Case(name, scene.image, personal, [i.box for i in scene.product]))
    for name, items in REAL_PERSONAL.items():
        product = [box for _, box in REAL_PRODUCT.get(name, [])]
        out.append(Case(name, upright_rgb(shared_path(name)), items, product))
    return out


def coverage(box: Box, findings: Sequence[Finding], shape: tuple[int, ...]) -> float:
    mask = np.zeros(shape[:2], bool)
    for f in findings:
        x0, y0, x1, y1 = f.box.clipped(shape[1], shape[0]).to_int()
        mask[y0:y1, x0:x1] = True
    x0, y0, x1, y1 = box.to_int()
    return float(mask[y0:y1, x0:x1].mean())


def measure(engine_name: str, threads: int, all_cases: Sequence[Case]) -> Result:
    started = time.perf_counter()
    engine = create_engine(engine_name, EngineSettings(threads=threads))
    detector = TextDetector(engine, "pii")
    detector.detect(np.full((64, 256, 3), 255, np.uint8))  # warm-up: lazy model loads
    result = Result(engine.version, time.perf_counter() - started)
    for case in all_cases:
        started = time.perf_counter()
        findings = detector.detect(case.image)
        result.seconds.append(time.perf_counter() - started)
        for kind, box in case.personal:
            result.total += 1
            if coverage(box, findings, case.image.shape) >= FOUND_COVERAGE:
                result.found += 1
            else:
                result.missed[f"{kind} ({case.name})"] += 1
        result.product_hits += sum(
            coverage(box, findings, case.image.shape) > 0.3 for box in case.product
        )
    return result


def report(results: Sequence[Result], all_cases: Sequence[Case], threads: int) -> str:
    sizes = ", ".join(f"{c.image.shape[1]}x{c.image.shape[0]}" for c in all_cases)
    lines = [
        f"{len(all_cases)} images ({sizes}); {threads} CPU thread(s); "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}",
        "",
        "| Engine | Personal items found | Recall | Product items hit | "
        "Mean s/image | Median s/image | Max s/image | Model load s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.engine} | {r.found}/{r.total} | {r.found / r.total:.1%} | {r.product_hits} | "
            f"{statistics.mean(r.seconds):.2f} | {statistics.median(r.seconds):.2f} | "
            f"{max(r.seconds):.2f} | {r.load_seconds:.1f} |"
        )
    for r in results:
        missed = ", ".join(f"{k} x{n}" for k, n in sorted(r.missed.items())) or "none"
        lines.append(f"\nMissed by {r.engine}: {missed}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", nargs="+", default=["rapidocr", "easyocr"])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    all_cases = cases()
    results = [measure(name, args.threads, all_cases) for name in args.engines]
    print(report(results, all_cases, args.threads))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
