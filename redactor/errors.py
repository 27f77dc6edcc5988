"""One error hierarchy for the whole library.

Every message names what was wrong and, where it helps, what to do. Messages never
carry image bytes, OCR'd text, client file names or client addresses.
"""

from __future__ import annotations


class RedactorError(Exception):
    """Base class for every error redactor raises on purpose."""

    #: Short, stable machine-readable code used in reports and job records.
    code = "error"


class UnsupportedImage(RedactorError):
    """The bytes are not an image format redactor accepts (sniffed from content)."""

    code = "unsupported_image"


class CorruptImage(RedactorError):
    """The bytes claim a supported format but cannot be decoded completely."""

    code = "corrupt_image"


class ImageTooLarge(RedactorError):
    """The file or its decoded pixels exceed a configured limit."""

    code = "image_too_large"


class DetectionError(RedactorError):
    """A detector failed on an image; the image must not be published."""

    code = "detection_failed"


class ModelIntegrityError(RedactorError):
    """A model weight file is missing or does not match its manifest checksum."""

    code = "model_integrity"


class ConfigError(RedactorError):
    """Settings or options are invalid."""

    code = "config_error"


class StorageError(RedactorError):
    """A storage backend failed (may be transient)."""

    code = "storage_error"


class UploadErased(RedactorError):
    """The upload was erased; nothing may be written or served for it."""

    code = "erased"
