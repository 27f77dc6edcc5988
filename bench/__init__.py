"""Benchmarks and evaluation tools for redactor, each run as ``python -m bench.<tool>``.

Nothing here is imported by ``redactor``; outputs go to ``bench-out/`` (ignored by git).
"""
