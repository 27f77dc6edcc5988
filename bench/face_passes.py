"""Where the face stage's time goes, pass by pass (issue 18, faces at 12 MP).

    python -m bench.face_passes [--size 4000x3000] [--count 4] [--runs 3]

Runs the pipeline's face detector (both families, default settings, one thread, as
``bench.speed``'s processes do) on ``bench.images``' scenes, decoded as the pipeline
decodes them, with every pass of each family wrapped in a timer: the time inside the
model calls and the time outside them (resizing, the detail map, equalising, decoding
heatmaps, merging) per pass, and the calls and tiles run. The wrappers only time and
count: the detector's findings are those of an unwrapped one. Figures are the median
over ``--runs`` of each image's milliseconds, summed over the images, per image.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from bench import images as bench_images


class PassTimer:
    """Nested timers: each labelled span's own time, its model time and model calls."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.total: defaultdict[str, float] = defaultdict(float)
        self.model: defaultdict[str, float] = defaultdict(float)
        self.calls: defaultdict[str, int] = defaultdict(int)
        self.frames: defaultdict[str, int] = defaultdict(int)

    def span(self, label: Callable[..., str] | str, call: Callable[..., Any]) -> Callable[..., Any]:
        """``call`` timed as the pass ``label`` (a label or a function of the call's
        arguments); time in nested spans is theirs, not this one's."""

        @wraps(call)
        def timed(*args: Any, **kwargs: Any) -> Any:
            name = label(*args, **kwargs) if callable(label) else label
            self.stack.append(name)
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                spent = (time.perf_counter() - started) * 1000
                self.stack.pop()
                self.total[name] += spent
                if self.stack:
                    self.total[self.stack[-1]] -= spent

        return timed

    def model_call(self, family: str, call: Callable[..., Any]) -> Callable[..., Any]:
        """A model: its time and calls go to the pass that called it."""

        @wraps(call)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                spent = (time.perf_counter() - started) * 1000
                name = self.stack[-1] if self.stack else f"{family} (no pass)"
                self.model[name] += spent
                self.calls[name] += 1
                frames = args[0] if args else None
                self.frames[name] += len(frames) if isinstance(frames, list) else 1
                if self.stack:
                    self.total[name] += 0.0  # the pass exists even if its own time is 0

        return timed

    def take(self) -> dict[str, list[float]]:
        """Per pass: (model ms, other ms, model calls, frames given); clears."""
        names = set(self.total) | set(self.model)
        out = {
            n: [
                self.model[n],
                self.total[n] - self.model[n],
                float(self.calls[n]),
                float(self.frames[n]),
            ]
            for n in names
        }
        self.total.clear()
        self.model.clear()
        self.calls.clear()
        self.frames.clear()
        return out


def instrument(detector: Any, timer: PassTimer) -> None:
    """Wrap the detector's passes (per instance and on the context's module)."""
    from redactor import detail, image_context
    from redactor.faces import centerface
    from redactor.faces import detector as detector_module

    for family in detector.families:
        if family.name == "centerface":
            family._model = timer.model_call("centerface", family._model)
            family.survey = timer.span("cf.coarse (survey)", family.survey)
            whole = family._whole

            def whole_label(context: Any, scale: float, *a: Any, equalise: bool = False) -> str:
                if equalise:
                    return "cf.faint"
                return "cf.crowd (whole frame 1.0)" if scale >= 1.0 else "cf.coarse whole"

            family._whole = timer.span(whole_label, whole)
            family._tiled = timer.span("cf.fine tiles", family._tiled)
            family.confirms = timer.span("cf.confirms (MediaPipe's unsure)", family.confirms)
            family._merged = timer.span("cf.merge", family._merged)
            family.candidates = timer.span("cf.candidates (rest)", family.candidates)
        else:
            family._full = timer.model_call("mediapipe", family._full)
            family._short = timer.model_call("mediapipe", family._short)
            family._candidates = timer.span(
                "mp.whole frame, bordered, levels", _listed(family._candidates)
            )
            family._edge_windows = timer.span("mp.edge windows", _listed(family._edge_windows))
            family._confirmed = timer.span("mp.short-range confirmation", family._confirmed)

            def level(context: Any, side: int, detail: Any, guide: Any = None) -> str:
                return f"mp.level {side}{' guided' if guide is not None else ''}"

            family._tiled = timer.span(level, _listed(family._tiled))
            family.confirms = timer.span("mp.confirms (CenterFace's unsure)", family.confirms)
            family.candidates = timer.span("mp.candidates (merge)", family.candidates)

    def under(what: str) -> Callable[..., str]:
        return lambda *a, **k: f"{timer.stack[-1] if timer.stack else '-'} > {what}"

    centerface.equalised = timer.span(under("equalise"), centerface.equalised)

    class TimedDetail(detail.DetailMap):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            timer.span(under("detail map"), super().__init__)(*args, **kwargs)

    setattr(image_context, "DetailMap", TimedDetail)  # noqa: B010 (not exported there)
    resized = image_context.ImageContext.resized
    image_context.ImageContext.resized = timer.span(under("resize"), resized)  # type: ignore[method-assign]
    detector_module.merge_heads = timer.span("merge heads", detector_module.merge_heads)
    detector.detect = timer.span("faces (rest)", detector.detect)


def _listed(generator: Callable[..., Any]) -> Callable[..., list[Any]]:
    """A generator function as one that runs it through (so that it can be timed)."""

    @wraps(generator)
    def listed(*args: Any, **kwargs: Any) -> list[Any]:
        return list(generator(*args, **kwargs))

    return listed


@click.command()
@click.option("--size", default="4000x3000", show_default=True)
@click.option("--count", default=4, show_default=True, help="Scenes (seeds 0, 1, ...).")
@click.option("--runs", default=3, show_default=True)
def main(size: str, count: int, runs: int) -> None:
    from redactor import imaging
    from redactor.image_context import ImageContext
    from redactor.options import PipelineOptions
    from redactor.pipeline import Pipeline
    from redactor.threads import limit_threads

    limit_threads(1)
    options = PipelineOptions.model_validate({"text": "off", "codes": False})
    pipeline = Pipeline.build(options)
    detector = next(d for d in pipeline.detectors if d.name == "faces")
    timer = PassTimer()
    instrument(detector, timer)
    frames = [
        imaging.decode(image.data, options.limits).frames[0]
        for image in bench_images.image_set(size, count)
    ]
    detector.detect(frames[0], ImageContext(frames[0]))  # warm-up
    timer.take()
    per_run: list[dict[str, list[float]]] = []
    totals: list[float] = []
    for _ in range(runs):
        summed: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
        started = time.perf_counter()
        for frame in frames:
            detector.detect(frame, ImageContext(frame))
            for name, values in timer.take().items():
                for i, v in enumerate(values):
                    summed[name][i] += v
        totals.append((time.perf_counter() - started) * 1000 / len(frames))
        per_run.append(dict(summed))
    names = sorted({n for run in per_run for n in run})
    print(f"{size}, {count} scenes, {runs} runs; ms per image (median of runs)")
    print(f"{'pass':42} {'model':>8} {'other':>8} {'calls':>6} {'frames':>6}")
    sums = [0.0, 0.0, 0.0, 0.0]
    for name in names:
        row = []
        for i in range(4):
            values = [run.get(name, [0.0] * 4)[i] / len(frames) for run in per_run]
            row.append(statistics.median(values))
        sums = [a + b for a, b in zip(sums, row, strict=True)]
        print(f"{name:42} {row[0]:8.1f} {row[1]:8.1f} {row[2]:6.1f} {row[3]:6.1f}")
    print(f"{'sum':42} {sums[0]:8.1f} {sums[1]:8.1f} {sums[2]:6.1f} {sums[3]:6.1f}")
    print(f"wall per image: {statistics.median(totals):.1f} ms")


if __name__ == "__main__":
    main()
