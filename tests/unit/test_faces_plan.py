"""The pure parts of face detection: heads around face boxes, the CenterFace tile plan,
merging families, and the family registry as the options and the CLI see it."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from redactor.cli.main import cli
from redactor.detail import DetailMap
from redactor.errors import ConfigError
from redactor.faces import (
    DEFAULT_FAMILIES,
    FaceCandidate,
    FaceDetector,
    FaceSettings,
    HeadShape,
    check_families,
    head_box,
)
from redactor.faces.boxes import overlaps_of_smaller, same_face, suppressed
from redactor.faces.centerface import (
    FINE_OVERLAP,
    FINE_TILE,
    HINT_REACH,
    CoarseSurvey,
    Raw,
    coarse_scale,
    fine_tiles,
    tile_starts,
    unexplained_spots,
)
from redactor.faces.detector import _corroborated, merge_heads
from redactor.faces.mediapipe import OWNED_RANGE, pyramid_plan, pyramid_sides
from redactor.findings import RGBImage
from redactor.geometry import Box, overlap_of_smaller, union_box
from redactor.image_context import ImageContext
from redactor.options import PipelineOptions


def test_given_a_frontal_face_box_then_the_head_reaches_hair_chin_and_ears() -> None:
    head = head_box(Box(100, 100, 200, 200), HeadShape(width=1.4, above=0.5, below=0.1))
    assert (head.y0, head.y1) == (50, 210)
    assert head.width == pytest.approx(140)
    assert head.center[0] == 150


def test_given_a_narrow_profile_box_then_the_head_is_still_three_quarters_as_wide_as_high() -> None:
    head = head_box(Box(100, 100, 130, 200), HeadShape(width=1.2, above=0.4, below=0.1))
    assert head.width == pytest.approx(0.75 * head.height)


@pytest.mark.parametrize(
    ("size", "expected"),
    [((400, 300), 1.0), ((1024, 683), 0.5), ((1600, 1200), 0.5), ((4000, 3000), 0.4)],
)
def test_given_an_image_size_then_the_coarse_pass_is_half_size_within_bounds(
    size: tuple[int, int], expected: float
) -> None:
    assert coarse_scale(*size) == pytest.approx(expected)


@pytest.mark.parametrize("length", [100, 320, 321, 700, 1000, 4000])
def test_tile_starts_cover_the_length_with_the_overlap(length: int) -> None:
    starts = tile_starts(length, FINE_TILE, FINE_OVERLAP)
    covered = np.zeros(length, dtype=bool)
    for start in starts:
        covered[start : start + FINE_TILE] = True
    assert covered.all()
    ends = [min(length, s + FINE_TILE) for s in starts]
    assert all(end - nxt >= FINE_OVERLAP for end, nxt in zip(ends, starts[1:], strict=False))


def test_fine_tiles_run_only_near_hints_and_never_on_flat_areas() -> None:
    rng = np.random.default_rng(0)
    image = np.full((1000, 1600, 3), 240, dtype=np.uint8)
    image[:, 800:] = rng.integers(0, 255, size=(1000, 800, 3), dtype=np.uint8)
    detail = DetailMap(image)
    assert fine_tiles(1600, 1000, [], detail) == []
    flat_hint = fine_tiles(1600, 1000, [(300.0, 500.0)], detail)
    assert flat_hint == []
    tiles = fine_tiles(1600, 1000, [(1200.0, 500.0)], detail)
    assert tiles and len(tiles) <= 4
    for tile in tiles:
        assert tile.x1 > 1200 - HINT_REACH and tile.x0 < 1200 + HINT_REACH


def _candidate(box: Box, score: float, family: str) -> FaceCandidate:
    return FaceCandidate(box, score, box.padded(10), family)


def test_heads_found_by_two_families_become_one_covering_both() -> None:
    merged = merge_heads(
        [
            _candidate(Box(100, 100, 200, 220), 0.9, "centerface"),
            _candidate(Box(110, 90, 210, 210), 0.6, "mediapipe"),
            _candidate(Box(400, 100, 450, 160), 0.4, "mediapipe"),
        ]
    )
    assert len(merged) == 2
    box, score, families = merged[0]
    assert box == Box(90, 80, 220, 230) and score == 0.9
    assert families == ["centerface", "mediapipe"]
    assert merged[1][2] == ["mediapipe"]


def test_a_giant_unsure_box_around_a_real_face_is_not_corroborated_by_it() -> None:
    # MediaPipe once took a visa's two text blocks for eyes: a 740 px "face" holding the
    # portrait's 65 px face, which CenterFace found. Holding it is not seeing it.
    real = _candidate(Box(157, 699, 222, 777), 0.81, "centerface")
    giant = FaceCandidate(Box(110, 534, 850, 1273), 0.82, Box(36, 201, 924, 1332), "mediapipe")
    assert not _corroborated(giant, [real, giant])
    near = _candidate(Box(149, 694, 235, 779), 0.82, "mediapipe")
    assert _corroborated(near, [real, near])
    assert same_face(real.face, near.face, 0.5)
    assert not same_face(real.face, giant.face, 0.5)


def test_given_family_names_then_unknown_ones_are_refused_naming_the_choices() -> None:
    assert check_families(("mediapipe", "centerface", "mediapipe")) == ("mediapipe", "centerface")
    with pytest.raises(ConfigError, match="choose from: centerface, mediapipe"):
        check_families(("yolo",))
    with pytest.raises(ConfigError):
        check_families(())
    assert PipelineOptions().face_detectors == DEFAULT_FAMILIES
    assert PipelineOptions(face_detectors=("mediapipe",)).face_detectors == ("mediapipe",)
    with pytest.raises(ValidationError, match="unknown face detector"):
        PipelineOptions(face_detectors=("yolo",))


def test_given_an_unknown_face_detector_on_the_command_line_then_usage_error(tmp_path) -> None:
    image = tmp_path / "in.png"
    image.write_bytes(b"")
    result = CliRunner().invoke(
        cli, ["redact", str(image), "--out", str(tmp_path / "out"), "--face-detectors", "yolo"]
    )
    assert result.exit_code == 2
    assert "unknown face detector" in result.output


def test_beside_a_guide_the_pyramid_runs_everywhere_for_large_faces_and_guided_below() -> None:
    plan = pyramid_plan(1600, 1200, 20, guided_below=48)
    everywhere = [side for side, guided in plan if not guided]
    guided = [side for side, guided in plan if guided]
    assert everywhere == pyramid_sides(1600, 1200, 48)
    assert guided and max(guided) < min(everywhere)
    # The finest guided level sees the smallest face, as the unguided pyramid's does.
    assert guided[-1] == pyramid_sides(1600, 1200, 20)[-1]
    # Each guided level sees faces at most OWNED_RANGE times smaller than the one above.
    levels = [*everywhere, *guided]
    assert all(a / b <= OWNED_RANGE + 0.01 for a, b in itertools.pairwise(levels))


@pytest.mark.parametrize("size", [(600, 600), (1024, 683), (4000, 3000)])
def test_without_a_guide_below_the_minimum_the_plan_is_the_plain_pyramid(
    size: tuple[int, int],
) -> None:
    assert pyramid_plan(*size, 20) == [(s, False) for s in pyramid_sides(*size, 20)]
    assert pyramid_plan(*size, 48, guided_below=48) == [
        (s, False) for s in pyramid_sides(*size, 48)
    ]


def test_a_small_image_with_no_level_for_large_faces_guides_its_whole_pyramid() -> None:
    assert pyramid_sides(600, 600, 48) == []
    assert pyramid_plan(600, 600, 20, guided_below=48) == [
        (s, True) for s in pyramid_sides(600, 600, 20)
    ]


def _survey(
    spots: list[tuple[float, float, float]],
    found: Sequence[Box] = (),
    crowd: bool = False,
) -> CoarseSurvey:
    shape = (1200, 1600)
    boxes = np.asarray([b.as_list() for b in found], np.float32).reshape(-1, 4)
    raw = Raw(
        boxes,
        np.ones(len(boxes), np.float32),
        np.zeros((0, 2), np.float32),
        np.asarray(spots, np.float32).reshape(-1, 3),
    )
    detail = DetailMap(np.zeros((*shape, 3), np.uint8))
    return CoarseSurvey(shape, 0.5, raw, unexplained_spots(raw), detail, [], crowd)


def test_the_coarse_survey_points_where_a_faint_face_of_the_size_asked_about_may_be() -> None:
    survey = _survey([(1204.0, 804.0, 20.0)])
    assert survey.likely(Box(1100, 700, 1300, 900), 10, 50)
    assert not survey.likely(Box(1100, 700, 1300, 900), 30, 80)  # estimated smaller
    assert not survey.likely(Box(1100, 700, 1300, 900), 4, 15)  # estimated larger
    assert not survey.likely(Box(0, 0, 600, 600), 10, 50)
    assert not survey.likely(Box(1210, 810, 1400, 1000), 10, 50)
    assert not _survey([]).likely(Box(0, 0, 1600, 1200), 0, 10_000)


def test_the_survey_does_not_point_at_faces_it_found_nor_in_a_crowd() -> None:
    spots = [(400.0, 400.0, 40.0), (420.0, 410.0, 30.0), (480.0, 400.0, 20.0)]
    found = [Box(380, 380, 420, 420)]  # the first two spots are this face's heat
    survey = _survey(spots, found)
    assert not survey.likely(Box(360, 360, 440, 440), 10, 50)
    assert survey.likely(Box(300, 300, 500, 500), 10, 50)
    assert not _survey(spots, crowd=True).likely(Box(0, 0, 1600, 1200), 10, 50)


class _Surveyor:
    name = "scout"
    model = "scout@1"
    model_attributes: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.surveyed = 0
        self.contexts: list[object] = []

    def survey(self, image: RGBImage, context: object = None) -> str:
        self.surveyed += 1
        self.contexts.append(context)
        return "guide"

    def candidates(
        self, image: RGBImage, guide: object = None, context: object = None
    ) -> list[FaceCandidate]:
        assert guide == "guide"
        self.contexts.append(context)
        return [_candidate(Box(10, 10, 30, 30), 0.9, self.name)]


class _Follower:
    name = "follower"
    model = "follower@1"
    model_attributes: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.guides: list[object] = []
        self.contexts: list[object] = []

    def candidates(
        self, image: RGBImage, guide: object = None, context: object = None
    ) -> list[FaceCandidate]:
        self.guides.append(guide)
        self.contexts.append(context)
        return []


def test_the_detector_surveys_once_and_hands_the_guide_to_every_family() -> None:
    scout, follower = _Surveyor(), _Follower()
    found = FaceDetector([follower, scout]).detect(np.zeros((100, 100, 3), np.uint8))
    assert scout.surveyed == 1
    assert follower.guides == ["guide"]
    # One context for the image, handed to the survey and to every family.
    (shared,) = set(map(id, scout.contexts + follower.contexts))
    assert isinstance(scout.contexts[0], ImageContext) and id(scout.contexts[0]) == shared
    assert len(found) == 1 and found[0].attributes["families"] == "scout"
    alone = _Follower()
    FaceDetector([alone]).detect(np.zeros((100, 100, 3), np.uint8))
    assert alone.guides == [None]


def _random_boxes(seed: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 400, (count, 2))
    size = rng.uniform(0, 60, (count, 2))  # some empty boxes too
    size[::17] = 0
    boxes = np.concatenate([xy, xy + size], axis=1).astype(np.float32)
    return boxes, rng.uniform(0, 1, count).astype(np.float32)


def _pairwise_suppression(boxes: list[Box], scores: list[float], threshold: float) -> list[int]:
    """The reference: the pairwise loop the shipped code used before it went to arrays."""
    order = sorted(range(len(boxes)), key=lambda i: scores[i], reverse=True)
    kept: list[int] = []
    for i in order:
        if all(overlap_of_smaller(boxes[i], boxes[k]) <= threshold for k in kept):
            kept.append(i)
    return kept


@pytest.mark.parametrize("seed", range(5))
def test_vectorised_suppression_keeps_what_the_pairwise_loop_keeps(seed: int) -> None:
    boxes, scores = _random_boxes(seed, 300)
    as_boxes = [Box(*map(float, b)) for b in boxes]
    expected = _pairwise_suppression(as_boxes, [float(s) for s in scores], 0.5)
    assert suppressed(boxes, scores, 0.5) == expected
    one = np.asarray([10, 10, 50, 50], np.float32)
    overlaps = overlaps_of_smaller(one, boxes)
    assert overlaps == pytest.approx([overlap_of_smaller(Box(10, 10, 50, 50), b) for b in as_boxes])


def _merge_heads_pairwise(
    candidates: Sequence[FaceCandidate],
) -> list[tuple[Box, float, list[str]]]:
    """The loop merge_heads replaced, as the reference."""
    groups: list[tuple[Box, Box, float, set[str]]] = []
    for c in sorted(candidates, key=lambda c: c.score, reverse=True):
        face, head, score, families = c.face, c.head, c.score, {c.family}
        merged = True
        while merged:
            merged = False
            for g, (gface, ghead, gscore, gfamilies) in enumerate(groups):
                if overlap_of_smaller(face, gface) > 0.5:
                    face, head = union_box([face, gface]), union_box([head, ghead])
                    score, families = max(score, gscore), families | gfamilies
                    del groups[g]
                    merged = True
                    break
        groups.append((face, head, score, families))
    return [(head, score, sorted(families)) for _, head, score, families in groups]


@pytest.mark.parametrize("seed", range(5))
def test_merging_heads_at_once_gives_what_the_pairwise_loop_gave(seed: int) -> None:
    boxes, scores = _random_boxes(seed, 200)
    candidates = [
        _candidate(Box(*map(float, b)), float(s), ("centerface", "mediapipe")[i % 2])
        for i, (b, s) in enumerate(zip(boxes, scores, strict=True))
    ]
    got = merge_heads(candidates)
    expected = _merge_heads_pairwise(candidates)
    assert len(got) == len(expected)
    for (box, score, families), (box2, score2, families2) in zip(got, expected, strict=True):
        assert box.as_list() == pytest.approx(box2.as_list(), abs=1e-3)
        assert (score, families) == (score2, families2)


class _NothingLikely:
    """A guide that sees no face anywhere (:class:`redactor.faces.base.FaceGuide`)."""

    def __init__(self, detail: DetailMap) -> None:
        self.detail = detail

    def likely(self, area: Box, smallest: float, largest: float) -> bool:
        return False


class _CountingContext(ImageContext):
    def __init__(self, image: RGBImage) -> None:
        super().__init__(image)
        self.shrunk: list[tuple[int, int]] = []

    def resized(self, width: int, height: int) -> RGBImage:
        self.shrunk.append((width, height))
        return super().resized(width, height)


def test_a_pyramid_level_is_shrunk_only_once_one_of_its_tiles_runs() -> None:
    from redactor.faces.mediapipe import MediaPipeFaceDetector

    frames: list[tuple[int, ...]] = []

    def no_faces(frame: RGBImage) -> list[tuple[Box, float]]:
        frames.append(frame.shape)
        return []

    detector = MediaPipeFaceDetector(FaceSettings(), full_range=no_faces, short_range=no_faces)
    image = np.random.default_rng(3).integers(0, 256, (1200, 1600, 3), dtype=np.uint8)
    context = _CountingContext(image)
    guide = _NothingLikely(context.detail)
    assert list(detector._tiled(context, 739, context.detail, guide)) == []
    assert context.shrunk == [] and frames == [] and detector.tiles_skipped > 0
    assert list(detector._tiled(context, 739, context.detail)) == []
    assert context.shrunk == [(831, 624)] and len(frames) == detector.tiles_run > 1
