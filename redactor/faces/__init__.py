"""Face detection: detector families (MediaPipe, CenterFace) by name, merged into heads."""

from redactor.faces.base import FaceCandidate, FaceFamily, FaceSettings, HeadShape, head_box
from redactor.faces.detector import FaceDetector
from redactor.faces.registry import DEFAULT_FAMILIES, FAMILIES, check_families, create_family

__all__ = [
    "DEFAULT_FAMILIES",
    "FAMILIES",
    "FaceCandidate",
    "FaceDetector",
    "FaceFamily",
    "FaceSettings",
    "HeadShape",
    "check_families",
    "create_family",
    "head_box",
]
