"""Turning findings into masks and applying the chosen style to each."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from redactor.blur import FEATHER_FRACTION
from redactor.findings import DOCUMENT, FACE, Finding
from redactor.geometry import Box
from redactor.options import PipelineOptions
from redactor.styles import Mask, Pixels, get_style

#: Margin around text and code boxes, as a share of the box height, so that no glyph
#: edge (ascenders, descenders, anti-aliasing) survives next to the fill.
TEXT_MARGIN_FRACTION = 0.2
TEXT_MARGIN_MIN_PX = 2.0


def region_for(finding: Finding, options: PipelineOptions) -> Box:
    """The box that will be redacted for a finding, before clipping."""
    if finding.kind == FACE:
        return finding.box.scaled_about_center(options.face_mask_scale)
    margin = max(TEXT_MARGIN_MIN_PX, finding.box.height * TEXT_MARGIN_FRACTION)
    return finding.box.padded(margin)


def crop_for(finding: Finding, region: Box) -> Box:
    """The part of the image handed to the style: the region, and for a face a margin
    around its ellipse to feather into."""
    if finding.kind != FACE:
        return region
    return region.padded(FEATHER_FRACTION * min(region.width, region.height) / 2 + 1)


def _ellipse(shape: tuple[int, int], region: Box, origin: tuple[int, int]) -> Mask:
    mask = np.zeros(shape, dtype=np.uint8)
    cx, cy = region.center
    centre = (round(cx - origin[0]), round(cy - origin[1]))
    axes = (max(1, round(region.width / 2)), max(1, round(region.height / 2)))
    cv2.ellipse(mask, centre, axes, 0, 0, 360, (1,), thickness=-1)
    return mask.astype(np.bool_)


def _mask(shape: tuple[int, int], finding: Finding, region: Box, origin: tuple[int, int]) -> Mask:
    if finding.kind != FACE:
        return np.ones(shape, dtype=np.bool_)
    return _ellipse(shape, region, origin)


def face_mask(shape: tuple[int, int], box: Box, options: PipelineOptions) -> Mask:
    """The pixels of a whole image of ``shape`` that a face finding at ``box`` redacts."""
    return _ellipse(shape, box.scaled_about_center(options.face_mask_scale), (0, 0))


def apply_redactions(
    pixels: Pixels, findings: Sequence[Finding], options: PipelineOptions
) -> list[tuple[Finding, str]]:
    """Redact ``pixels`` in place; returns each finding with the style applied to it
    (``none`` for a document's extent, which is reported, not redacted)."""
    height, width = pixels.shape[:2]
    applied = []
    for finding in findings:
        if finding.kind == DOCUMENT:
            applied.append((finding, "none"))
            continue
        region = region_for(finding, options)
        x0, y0, x1, y1 = crop_for(finding, region).clipped(width, height).to_int()
        if x1 <= x0 or y1 <= y0:
            continue
        style = get_style(options.style_for(finding.kind))
        crop = pixels[y0:y1, x0:x1]
        style.apply(crop, _mask((y1 - y0, x1 - x0), finding, region, (x0, y0)))
        applied.append((finding, style.name))
    return applied
