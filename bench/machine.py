"""The machine a benchmark runs on: its CPU, memory, OS and library versions, and its load
average sampled while the benchmark runs (the machine may be shared)."""

from __future__ import annotations

import os
import platform
import statistics
import threading
from importlib import metadata
from pathlib import Path
from typing import Any


def describe_machine() -> dict[str, Any]:
    """CPU model, cores, RAM, OS, Python and the versions of the libraries that do the work."""
    cpu = proc_field(Path("/proc/cpuinfo"), "model name") or platform.processor()
    mem_kb = proc_field(Path("/proc/meminfo"), "MemTotal")
    packages = ("mediapipe", "rapidocr", "onnxruntime", "opencv-python-headless", "pillow")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(int(mem_kb.split()[0]) / 1024**2, 1) if mem_kb else None,
        "os": _os_name(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in packages},
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
    }


class LoadSampler:
    """The 1-minute load average every ``interval`` seconds while a benchmark runs: on a
    shared machine it tells how much the figures were disturbed (2 cores: 2 is full)."""

    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            self.samples.append(round(os.getloadavg()[0], 2))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float]:
        return {
            "mean": round(statistics.mean(self.samples), 2),
            "max": max(self.samples),
            "samples": len(self.samples),
        }


def proc_field(path: Path, name: str) -> str | None:
    if not path.exists():
        return None
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return None


def _os_name() -> str:
    release = Path("/etc/os-release")
    if release.exists():
        for line in release.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    return platform.platform()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None
