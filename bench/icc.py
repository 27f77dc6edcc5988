"""Colour kept by the ICC profile modes, measured on the real profiles of the test images.

    python -m bench.icc [--out bench-out/icc.json]

For every distinct profile embedded in ``../shared/test-images`` (cameras, phones,
calibrated monitors), under ``sanitise`` and ``keep``: what the profile became, its size
before and after, and how far the output profile's colours are from the upload's, as
CIEDE2000 over a 17³ RGB chart (4,913 colours, relative colorimetric, D50) computed
from the profiles' own numbers, and as the largest 8-bit difference between LittleCMS's
conversions of a 9³ chart to sRGB through each profile. Also the time one choice takes
(median of 20 runs in this process; the encoder caches it per profile).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image, ImageCms

from redactor.colour import ciede2000
from redactor.containers.icc import COLOUR_TAGS, read_profile
from redactor.imaging.profiles import chart_lab, choose_profile
from redactor.options import IccMode

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT.parent / "shared" / "test-images"
MODES: tuple[IccMode, ...] = ("sanitise", "keep")


def real_profiles() -> dict[str, bytes]:
    pillow_heif.register_heif_opener()
    found: dict[str, bytes] = {}
    for path in sorted(IMAGES.iterdir()):
        if path.suffix.lower() not in {".jpg", ".jpeg", ".png", ".heic", ".webp"}:
            continue
        with Image.open(path) as image:
            profile = image.info.get("icc_profile")
        if profile and profile not in found.values():
            found[path.name] = profile
    return found


def _littlecms_chart(profile: bytes) -> np.ndarray:
    levels = np.linspace(0, 255, 9).round().astype(np.uint8)
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1)
    converted = ImageCms.profileToProfile(
        Image.fromarray(grid.reshape(27, 27, 3)),
        ImageCms.ImageCmsProfile(io.BytesIO(profile)),
        ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")),
    )
    assert converted is not None
    return np.asarray(converted, dtype=np.int16)


def measure(name: str, source: bytes) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    original = chart_lab(read_profile(source, frozenset(COLOUR_TAGS)))
    for mode in MODES:
        timings = []
        for _ in range(20):
            started = time.perf_counter()
            choice = choose_profile(source, mode)
            timings.append((time.perf_counter() - started) * 1000)
        row: dict[str, object] = {
            "image": name,
            "mode": mode,
            "state": choice.state,
            "bytes_in": len(source),
            "bytes_out": len(choice.profile or b""),
            "ms_median": round(statistics.median(timings), 2),
        }
        if choice.profile is not None:
            written = chart_lab(read_profile(choice.profile))
            if original is not None and written is not None:
                difference = ciede2000(original, written)
                row |= {"de00_max": float(difference.max()), "de00_mean": float(difference.mean())}
            lcms = np.abs(_littlecms_chart(source) - _littlecms_chart(choice.profile))
            row["littlecms_max_8bit"] = int(lcms.max())
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out" / "icc.json")
    args = parser.parse_args()
    rows = [row for name, profile in real_profiles().items() for row in measure(name, profile)]
    print(
        f"{'image':34} {'mode':8} {'state':9} {'bytes':>11} {'dE00 max':>9} {'mean':>7} "
        f"{'lcms':>4} {'ms':>6}"
    )
    for row in rows:
        sizes = f"{row['bytes_in']}->{row['bytes_out']}"
        de_max = row.get("de00_max")
        de_mean = row.get("de00_mean")
        print(
            f"{row['image']:34} {row['mode']:8} {row['state']:9} {sizes:>11} "
            f"{'-' if de_max is None else f'{de_max:.3f}':>9} "
            f"{'-' if de_mean is None else f'{de_mean:.3f}':>7} "
            f"{row.get('littlecms_max_8bit', '-')!s:>4} {row['ms_median']:>6}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=1))
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
