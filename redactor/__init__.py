"""redactor: redact faces, personal text and metadata from images."""

__version__ = "0.1.0"
