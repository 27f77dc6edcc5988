"""The model manifest and its verification.

Every weight file the pipeline loads is listed in ``manifest.json`` with the package
that ships it, that package's version, the path inside it, its sha256 and its licence.
Nothing is ever downloaded: a file that is missing or differs from the manifest is a
:class:`redactor.errors.ModelIntegrityError` naming the file and the expected checksum.
"""

from models.manifest import ModelFile, load_manifest, model_entry
from models.verify import VerifyResult, verified_path, verify_all, verify_file

__all__ = [
    "ModelFile",
    "VerifyResult",
    "load_manifest",
    "model_entry",
    "verified_path",
    "verify_all",
    "verify_file",
]
