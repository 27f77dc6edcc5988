"""Work the face families share or bound for speed: what they are given to look at."""

from __future__ import annotations

import numpy as np
import pytest

import redactor.faces.centerface as centerface
from redactor.faces.centerface import CenterFaceFamily
from redactor.image_context import ImageContext
from tests.support import record_image_shapes


@pytest.fixture(scope="module")
def family() -> CenterFaceFamily:
    return CenterFaceFamily()


@pytest.mark.parametrize(
    ("size", "expected"),
    [((1500, 2000), (1500, 2000, 3)), ((3000, 4000), (1500, 2000, 3))],
)
def test_the_faint_pass_equalises_the_frame_or_the_half_copy_of_one_over_4_mp(
    family: CenterFaceFamily,
    monkeypatch: pytest.MonkeyPatch,
    size: tuple[int, int],
    expected: tuple[int, ...],
) -> None:
    seen = record_image_shapes(monkeypatch, centerface, "equalised")
    image = np.random.default_rng(2).integers(0, 256, (*size, 3), dtype=np.uint8)
    family.candidates(image, context=ImageContext(image))
    assert seen == [expected]
