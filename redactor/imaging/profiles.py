"""What happens to an upload's ICC colour profile: keep its colour, never its text.

A profile's text tags can hold anything (a photographer's name and e-mail in ``desc``,
a studio's address in ``cprt``, megabytes in a private tag), so no mode publishes a
profile as it came. Every mode that keeps colour rebuilds the profile from its colour
tags alone (:data:`redactor.containers.icc.COLOUR_TAGS`: white and black point,
colorants, tone curves, adaptation matrix, chromaticities, the ``A2B0``/``B2A0`` lookup
tables), re-written from their numbers, with redactor's own fixed description and
copyright text and a header whose non-colour fields (creator, device, date, profile id)
are zero.

* ``sanitise`` (the default): a rebuilt profile whose colours are within
  :data:`CANONICAL_DELTA_E` (CIEDE2000, over a 17³ chart) of sRGB or Display P3 is
  ``replaced`` by redactor's own copy of that profile, written by this module from the
  published primaries, white point and tone curve (nothing is shipped, so no licence
  applies); any other RGB profile is ``sanitised`` (rebuilt).
* ``keep``: the profile's own colour numbers are always used (never a canonical copy),
  rebuilt the same way; the report says ``kept`` only when that changed nothing (the
  upload already held a profile redactor wrote), else ``sanitised``.
* ``drop``: no profile; viewers then assume sRGB.

A profile that is not RGB (the output is always RGB), that cannot be read exactly, has
no complete set of colour tags, is over :data:`MAX_PROFILE_BYTES` once rebuilt, or that
LittleCMS cannot open is ``dropped``.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

import numpy as np
from PIL import ImageCms

from redactor.colour import D50, D65_XY, Array, bradford, ciede2000, rgb_to_xyz_matrix, xyz_to_lab
from redactor.containers.icc import (
    CANONICAL_DESCRIPTIONS,
    COLOUR_TAGS,
    COPYRIGHT,
    MATRIX_TAGS,
    SANITISED_DESCRIPTION,
    IccHeader,
    IccProfile,
    read_header,
    read_profile,
    text_of,
    text_value,
    write_profile,
)
from redactor.containers.icc_types import (
    ChromaticityValue,
    CurveValue,
    IccError,
    ParametricValue,
    S15Value,
    TagValue,
    XYZValue,
)
from redactor.options import IccMode, IccState

#: Largest rebuilt profile written: matrix profiles are under 3 KB, a 33-point RGB
#: lookup table in 16 bits about 220 KB.
MAX_PROFILE_BYTES = 1024 * 1024
#: Largest CIEDE2000 difference at which a profile counts as sRGB or Display P3 (half of
#: a just-noticeable difference).
CANONICAL_DELTA_E = 0.5


@dataclass(frozen=True, slots=True)
class ProfileChoice:
    """The profile to write (None: none) and what was done to the upload's profile."""

    profile: bytes | None
    state: IccState


def cached_choice(source: bytes | None, mode: IccMode) -> ProfileChoice:
    """:func:`choose_profile`, remembered for small profiles: uploads share a handful."""
    if source and len(source) <= _CACHED_PROFILE_BYTES:
        return _remembered_choice(source, mode)
    return choose_profile(source, mode)


#: Profiles up to this size have their choice cached (a camera's or a phone's profile).
_CACHED_PROFILE_BYTES = 64 * 1024


@functools.lru_cache(maxsize=32)
def _remembered_choice(source: bytes, mode: IccMode) -> ProfileChoice:
    return choose_profile(source, mode)


def choose_profile(source: bytes | None, mode: IccMode) -> ProfileChoice:
    """The output profile for an upload's ``source`` profile under ``mode``."""
    if not source:
        return ProfileChoice(None, "absent")
    rebuilt = None if mode == "drop" else rebuild(source)
    if rebuilt is None:
        return ProfileChoice(None, "dropped")
    canonical = canonical_equivalent(rebuilt) if mode == "sanitise" else None
    profile = canonical or write_profile(rebuilt)
    if profile == source:
        return ProfileChoice(profile, "kept")
    return ProfileChoice(profile, "replaced" if canonical else "sanitised")


def rebuild(source: bytes) -> IccProfile | None:
    """The profile's colour tags with redactor's text, or None if that is not a usable RGB
    profile (see the module notes). A description redactor wrote itself is kept."""
    try:
        header = read_header(source)
        tags = read_profile(source, frozenset({*COLOUR_TAGS, b"desc"})).tags
    except IccError:
        return None
    values = {sig: value for sig, value in tags if isinstance(value, COLOUR_TAGS.get(sig, ()))}
    has_matrix = all(sig in values for sig in MATRIX_TAGS)
    if header.colour_space != b"RGB " or not (has_matrix or b"A2B0" in values):
        return None
    description = text_of(dict(tags).get(b"desc"))
    if description not in CANONICAL_DESCRIPTIONS:
        description = SANITISED_DESCRIPTION
    colour = [(sig, values[sig]) for sig in COLOUR_TAGS if sig in values]
    profile = _with_own_text(header, colour, description)
    data = write_profile(profile)
    return profile if len(data) <= MAX_PROFILE_BYTES and _lcms_opens(data) else None


def _with_own_text(
    header: IccHeader, colour: list[tuple[bytes, TagValue]], description: str
) -> IccProfile:
    texts = [
        (b"desc", text_value(header, b"desc", description)),
        (b"cprt", text_value(header, b"cprt", COPYRIGHT)),
    ]
    return IccProfile(header, (*texts, *colour))


def _lcms_opens(data: bytes) -> bool:
    try:
        ImageCms.ImageCmsProfile(io.BytesIO(data))
    except (ImageCms.PyCMSError, OSError, ValueError):
        return False
    return True


# --- Canonical profiles ----------------------------------------------------------------------

_S15 = 65536
_D50_S15 = (0xF6D6, 0x10000, 0xD32D)
#: IEC 61966-2-1 tone curve as ICC parametric function 3: g, a, b, c, d.
_SRGB_CURVE = ParametricValue(
    3, tuple(round(v * _S15) for v in (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045))
)
_PRIMARIES = {
    "sRGB": ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06)),  # ITU-R BT.709 / IEC 61966-2-1
    "Display P3": ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060)),  # SMPTE EG 432-1
}
#: The chromaticity tag's colorant code for ITU-R BT.709 primaries; 0 is "unknown".
_COLORANT_CODES = {"sRGB": 1, "Display P3": 0}


@functools.cache
def canonical_profiles() -> dict[str, IccProfile]:
    """redactor's own v4 sRGB and Display P3 profiles (D65 white adapted to D50)."""
    header = IccHeader(0x0430, b"mntr", b"RGB ", b"XYZ ", 0, _D50_S15)
    adapt = bradford(
        np.array([D65_XY[0] / D65_XY[1], 1.0, (1 - sum(D65_XY)) / D65_XY[1]]), np.array(D50)
    )
    profiles = {}
    for name, primaries in _PRIMARIES.items():
        colorants = adapt @ rgb_to_xyz_matrix(primaries, D65_XY)
        colour: list[tuple[bytes, TagValue]] = [(b"wtpt", XYZValue(_D50_S15))]
        for index, sig in enumerate((b"rXYZ", b"gXYZ", b"bXYZ")):
            colour.append((sig, XYZValue(tuple(round(v * _S15) for v in colorants[:, index]))))
        colour += [(sig, _SRGB_CURVE) for sig in (b"rTRC", b"gTRC", b"bTRC")]
        colour.append((b"chad", S15Value(tuple(round(v * _S15) for v in adapt.flatten()))))
        coordinates = tuple(round(v * _S15) for xy in primaries for v in xy)
        colour.append((b"chrm", ChromaticityValue(_COLORANT_CODES[name], coordinates)))
        profiles[name] = _with_own_text(header, colour, name)
    return profiles


def canonical_equivalent(profile: IccProfile) -> bytes | None:
    """redactor's sRGB or Display P3 when ``profile`` renders the chart within
    :data:`CANONICAL_DELTA_E` of it, else None."""
    colorants = _colorants(profile)
    if colorants is None:
        return None
    for data, reference_colorants, reference_lab in _canonical_charts():
        # Far-off colorants cannot be within the bound: skip the chart for them.
        if np.abs(colorants - reference_colorants).max() > _COLORANT_TOLERANCE:
            continue
        lab = chart_lab(profile)
        if lab is not None and float(ciede2000(lab, reference_lab).max()) <= CANONICAL_DELTA_E:
            return data
    return None


#: XYZ difference (PCS, Y = 1) in any colorant beyond which no chart is rendered: 0.005
#: already moves a saturated primary by more than 1 ΔE00.
_COLORANT_TOLERANCE = 0.005


def _colorants(profile: IccProfile) -> Array | None:
    values = [profile.tag(sig) for sig in MATRIX_TAGS[:3]]
    if not all(isinstance(value, XYZValue) for value in values):
        return None
    numbers = [value.numbers[:3] for value in values if isinstance(value, XYZValue)]
    return np.asarray(numbers, dtype=np.float64).T / _S15


@functools.cache
def _canonical_charts() -> tuple[tuple[bytes, Array, Array], ...]:
    charts = []
    for profile in canonical_profiles().values():
        colorants, lab = _colorants(profile), chart_lab(profile)
        assert colorants is not None and lab is not None  # canonical profiles are matrix ones
        charts.append((write_profile(profile), colorants, lab))
    return tuple(charts)


# --- Rendering a chart through a matrix profile ------------------------------------------------

CHART_LEVELS = 17


def chart_rgb() -> Array:
    """Every combination of 17 levels per channel (4,913 colours), in 0..1."""
    levels = np.linspace(0.0, 1.0, CHART_LEVELS)
    grid: Array = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1)
    return grid.reshape(-1, 3)


def chart_lab(profile: IccProfile) -> Array | None:
    """CIELAB (D50) of :func:`chart_rgb` through a matrix/TRC profile (relative
    colorimetric); None for a profile without the matrix tags."""
    tags = dict(profile.tags)
    colorants = [tags.get(sig) for sig in MATRIX_TAGS[:3]]
    curves = [tags.get(sig) for sig in MATRIX_TAGS[3:]]
    rgb = chart_rgb()
    linear = np.empty_like(rgb)
    matrix = np.empty((3, 3))
    for channel, (colorant, curve) in enumerate(zip(colorants, curves, strict=True)):
        if not isinstance(colorant, XYZValue) or not isinstance(
            curve, CurveValue | ParametricValue
        ):
            return None
        matrix[:, channel] = np.asarray(colorant.numbers[:3], dtype=np.float64) / _S15
        linear[:, channel] = tone_curve(curve, rgb[:, channel])
    lab: Array = xyz_to_lab(linear @ matrix.T)
    return lab


def tone_curve(curve: CurveValue | ParametricValue, x: Array) -> Array:
    """A ``curv`` or ``para`` curve evaluated at ``x`` (0..1), as ICC.1 10.6 and 10.18 define."""
    if isinstance(curve, CurveValue):
        if not curve.entries:
            return x
        if len(curve.entries) == 1:
            return np.power(x, curve.entries[0] / 256)
        table = np.asarray(curve.entries, dtype=np.float64) / 65535
        return np.interp(x, np.linspace(0.0, 1.0, len(table)), table)
    g, a, b, c, d, e, f = (*(p / _S15 for p in curve.params), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)[:7]
    if curve.function == 0:
        return np.power(x, g)
    if curve.function in (1, 2):
        power = np.power(np.maximum(a * x + b, 0.0), g)
        offset = c if curve.function == 2 else 0.0
        return np.where(x >= -b / a if a else True, power + offset, offset)
    above = np.power(np.maximum(a * x + b, 0.0), g) + (e if curve.function == 4 else 0.0)
    below = c * x + (f if curve.function == 4 else 0.0)
    return np.where(x >= d, above, below)
