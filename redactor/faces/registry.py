"""Face-detector families by name: the registry the options and the CLI choose from.

Importing this module loads no model: each factory imports its family when called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from redactor.errors import ConfigError
from redactor.faces.base import FaceFamily, FaceSettings

FamilyFactory = Callable[[FaceSettings], FaceFamily]

#: Beside CenterFace, MediaPipe's pyramid levels for faces narrower than this run only
#: where CenterFace's coarse pass has a faint peak estimating a face of that size (see
#: ``CoarseSurvey.likely``): those levels cost most of its model calls, and CenterFace
#: finds most small faces itself, but not all (isolated 20-32 px faces on a busy scene,
#: which MediaPipe's fine tiles do find), see docs/benchmarks.md.
MEDIAPIPE_GUIDED_BELOW_BESIDE_CENTERFACE = 48.0


def _mediapipe(settings: FaceSettings) -> FaceFamily:
    from redactor.faces.mediapipe import MediaPipeFaceDetector

    guided = "centerface" in settings.families
    below = MEDIAPIPE_GUIDED_BELOW_BESIDE_CENTERFACE if guided else 0.0
    return MediaPipeFaceDetector(settings, guided_below=below)


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
