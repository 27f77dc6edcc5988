"""OCR engine adapters: each turns one library's output into :mod:`redactor.text.ocr` records."""
