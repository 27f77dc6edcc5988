"""Where a worker's temp files live, and how leftovers of killed processes go away.

Layout: ``<REDACTOR_SCRATCH_DIR>/<worker node>/<pid>/<job>-<random>/``. Each task works
in its own folder, removed when the task ends however it ends (see
:meth:`Processor._scratch`). What that cannot cover is a process killed outright (the
hard time limit, the OOM killer):

* at worker start, the node's whole folder is cleared (nothing of this node runs yet);
* when a pool process starts (also when it replaces a killed one), it removes the
  folders of processes of its node that are no longer alive.

Folders are per node, so two workers sharing a scratch folder never clear each other's.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9@._-]")


def node_folder(scratch_dir: Path, node: str) -> Path:
    """The folder of one worker node (its name made safe as a folder name)."""
    return scratch_dir / (_UNSAFE.sub("_", node) or "worker")


def process_folder(node: Path, pid: int | None = None) -> Path:
    return node / str(os.getpid() if pid is None else pid)


def clear(folder: Path) -> None:
    """Remove everything in ``folder`` (left by an earlier run of the same node)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def reap_dead(node: Path) -> list[Path]:
    """Remove the folders of this node's processes that are gone; the ones removed."""
    if not node.is_dir():
        return []
    dead = [p for p in node.iterdir() if p.name.isdigit() and not _alive(int(p.name))]
    for folder in dead:
        shutil.rmtree(folder, ignore_errors=True)
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but someone else's
        return True
    return True
