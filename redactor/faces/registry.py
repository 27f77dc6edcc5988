"""Face-detector families by name: the registry the options and the CLI choose from.

Importing this module loads no model: each factory imports its family when called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from redactor.errors import ConfigError
from redactor.faces.base import FaceFamily, FaceSettings

FamilyFactory = Callable[[FaceSettings], FaceFamily]

#: Beside CenterFace, whose fine tiles find small faces, MediaPipe's pyramid is built for
#: faces from this width: its finest levels cost most of its model calls, and what
#: MediaPipe adds beside CenterFace is large faces (three-quarter views, drawn portraits,
#: faces cut by the frame), see docs/benchmarks.md.
MEDIAPIPE_MIN_FACE_BESIDE_CENTERFACE = 48.0


def _mediapipe(settings: FaceSettings) -> FaceFamily:
    from dataclasses import replace

    from redactor.faces.mediapipe import MediaPipeFaceDetector

    if "centerface" in settings.families:
        floor = max(settings.min_face_px, MEDIAPIPE_MIN_FACE_BESIDE_CENTERFACE)
        settings = replace(settings, min_face_px=floor)
    return MediaPipeFaceDetector(settings)


def _centerface(settings: FaceSettings) -> FaceFamily:
    from redactor.faces.centerface import CenterFaceFamily

    return CenterFaceFamily(settings)


FAMILIES: Mapping[str, FamilyFactory] = {"centerface": _centerface, "mediapipe": _mediapipe}
#: What runs unless the options say otherwise: both, merged.
DEFAULT_FAMILIES = ("centerface", "mediapipe")


def check_families(names: tuple[str, ...]) -> tuple[str, ...]:
    """``names`` without repeats, in order; an unknown or empty choice is a ConfigError."""
    unknown = [n for n in names if n not in FAMILIES]
    if unknown or not names:
        raise ConfigError(
            f"unknown face detector(s) {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"choose from: {', '.join(sorted(FAMILIES))}"
        )
    return tuple(dict.fromkeys(names))


def create_family(name: str, settings: FaceSettings) -> FaceFamily:
    check_families((name,))
    return FAMILIES[name](settings)
