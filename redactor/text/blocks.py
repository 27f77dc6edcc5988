"""Group lines into blocks: lines stacked closely in one column, like an address label."""

from __future__ import annotations

from collections.abc import Sequence

from redactor.text.lines import TextLine

#: Largest vertical gap between stacked lines, in line heights.
MAX_LINE_GAP = 1.0
#: Largest height ratio within a block (a label's name line is often set larger).
MAX_HEIGHT_RATIO = 2.5


def stacked(upper: TextLine, lower: TextLine) -> bool:
    """Whether ``lower`` sits directly under ``upper`` in the same column."""
    a, b = upper.box, lower.box
    low, high = sorted((upper.height, lower.height))
    if low <= 0 or high / low > MAX_HEIGHT_RATIO:
        return False
    gap = b.y0 - a.y1
    if not -0.5 * high <= gap <= MAX_LINE_GAP * high:
        return False
    shared = min(a.x1, b.x1) - max(a.x0, b.x0)
    aligned_left = abs(a.x0 - b.x0) <= 2 * high
    return aligned_left or shared >= 0.3 * min(a.width, b.width)


def group_blocks(lines: Sequence[TextLine]) -> list[list[int]]:
    """Indices of ``lines`` in blocks (connected stacks), each block top to bottom."""
    parent = list(range(len(lines)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = sorted(range(len(lines)), key=lambda i: lines[i].box.center[1])
    for pos, i in enumerate(order):
        for j in order[pos + 1 :]:
            if stacked(lines[i], lines[j]):
                parent[root(j)] = root(i)
    blocks: dict[int, list[int]] = {}
    for i in order:
        blocks.setdefault(root(i), []).append(i)
    return list(blocks.values())
