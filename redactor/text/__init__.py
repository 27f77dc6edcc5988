"""Text in images: OCR engines, line reconstruction, and the text and code detectors."""
