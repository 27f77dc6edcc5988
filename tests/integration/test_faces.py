"""Real models on real photos: faces found, redacted strongly, nothing else touched."""

from __future__ import annotations

import numpy as np
import pytest

from redactor.faces import DEFAULT_FAMILIES, FaceDetector, FaceSettings
from redactor.faces.mediapipe import MediaPipeFaceDetector, edge_windows, pyramid_sides, tile_grid
from redactor.findings import Finding
from redactor.geometry import Box, overlap_of_smaller
from redactor.options import PipelineOptions
from redactor.pipeline import Pipeline
from redactor.redact import crop_for, region_for
from tests.support import decode_rgb, face_boxes, load_image_bytes

pytestmark = pytest.mark.models

FACES_ONLY = PipelineOptions(text="off", codes=False)


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline.build(FACES_ONLY)


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector.build(DEFAULT_FAMILIES, FaceSettings())


def _detail(pixels: np.ndarray) -> float:
    img = pixels.astype(np.float64)
    return float(np.abs(np.diff(img, axis=1)).mean() + np.abs(np.diff(img, axis=0)).mean())


def _inner(box: list[int], shrink: float = 0.6) -> tuple[slice, slice]:
    b = Box(*box).scaled_about_center(shrink)
    x0, y0, x1, y1 = b.to_int()
    return slice(y0, y1), slice(x0, x1)


@pytest.mark.parametrize("name", sorted(face_boxes()))
def test_every_labelled_face_loses_its_detail(pipeline: Pipeline, name: str) -> None:
    data = load_image_bytes(name)
    result = pipeline.run(data)
    assert result.ok, result.report.error
    before, after = decode_rgb(data), decode_rgb(result.output or b"")
    assert before.shape == after.shape
    for box in face_boxes()[name]:
        rows, cols = _inner(box)
        assert _detail(after[rows, cols]) < 0.5 * _detail(before[rows, cols]), (
            f"face {box} kept its detail"
        )
        assert np.abs(after[rows, cols].astype(int) - before[rows, cols]).mean() > 4


@pytest.mark.parametrize("name", ["skimage:astronaut", "face_portrait_studio.png"])
def test_pixels_far_from_faces_are_unchanged_in_lossless_output(
    pipeline: Pipeline, name: str
) -> None:
    data = load_image_bytes(name)
    result = pipeline.run(data)
    assert result.output_format == "png"
    before, after = decode_rgb(data), decode_rgb(result.output or b"")
    far = np.ones(before.shape[:2], dtype=bool)
    for record in result.report.findings:
        finding = Finding(record.kind, Box(*record.box), record.score, "faces", "")
        x0, y0, x1, y1 = crop_for(finding, region_for(finding, FACES_ONLY)).padded(1).to_int()
        far[max(0, y0) : y1, max(0, x0) : x1] = False
    assert far.sum() > 5_000  # the studio head fills most of its frame
    assert np.array_equal(before[far], after[far])


def test_pixels_far_from_faces_barely_change_in_jpeg_output(pipeline: Pipeline) -> None:
    data = load_image_bytes("face_two_nikon_exif.jpg")
    result = pipeline.run(data)
    before, after = decode_rgb(data), decode_rgb(result.output or b"")
    far = np.ones(before.shape[:2], dtype=bool)
    for finding in result.report.findings:
        x0, y0, x1, y1 = Box(*finding.box).scaled_about_center(1.6).to_int()
        far[max(0, y0) : y1, max(0, x0) : x1] = False
    assert np.abs(after[far].astype(int) - before[far]).mean() < 1.5


@pytest.mark.parametrize(
    ("name", "at_least"),
    [
        ("face_group_cheering.jpg", 15),
        ("face_crowd_fans.jpg", 12),
        ("face_group_selfie.jpg", 5),
        ("face_sunglasses_walking.jpg", 3),
        ("face_crowd_overhead_tiny.jpg", 6),
        ("face_group_iptc_caption.jpg", 5),
    ],
)
def test_group_photos_find_most_faces(detector: FaceDetector, name: str, at_least: int) -> None:
    found = detector.detect(decode_rgb(load_image_bytes(name)))
    assert len(found) >= at_least


def test_product_photo_without_a_face_keeps_its_product_untouched(
    detector: FaceDetector,
) -> None:
    """Its hands and fabric raise enough weak CenterFace peaks to look like a crowd, but
    a crowd pass's weak detections stand only among clear faces: nothing is redacted.
    (MediaPipe's edge pass fires on the hand at the right edge; CenterFace refuses it.)"""
    image = decode_rgb(load_image_bytes("product_hands_no_face.jpg"))
    assert detector.detect(image) == []


def test_mirror_selfie_hits_at_most_the_phone_over_the_face(
    detector: FaceDetector,
) -> None:
    image = decode_rgb(load_image_bytes("person_mirror_selfie_no_face.jpg"))
    found = detector.detect(image)
    assert len(found) <= 1
    assert all(f.box.y1 < image.shape[0] * 0.25 for f in found)


def test_small_face_in_a_large_product_scene(detector: FaceDetector) -> None:
    """A ~60 px face in a 1600 px frame: missed on the whole frame, found by the tiles."""
    import cv2
    from skimage import data

    scene = np.full((1200, 1600, 3), 240, dtype=np.uint8)
    face = cv2.resize(data.astronaut()[30:230, 150:300], (60, 80), interpolation=cv2.INTER_AREA)
    scene[900:980, 1300:1360] = face
    found = detector.detect(scene)
    assert any(
        Box(1300, 900, 1360, 980).center[0] in range(int(f.box.x0), int(f.box.x1) + 1)
        for f in found
    )


@pytest.mark.parametrize("at", [(1300, 900), (250, 240), (770, 520)])
def test_small_face_on_a_plain_backdrop_is_found_and_flat_tiles_are_skipped(
    at: tuple[int, int],
) -> None:
    """A 30 px face on a studio backdrop (noise of +-3 levels, as in a JPEG): the tiles
    over the backdrop are skipped, the ones over the face are run and find it."""
    import cv2
    from skimage import data

    rng = np.random.default_rng(1)
    scene = (243 + rng.integers(-3, 4, (1200, 1600, 3))).astype(np.uint8)
    face = cv2.resize(data.astronaut()[30:230, 150:300], (30, 40), interpolation=cv2.INTER_AREA)
    x, y = at
    scene[y : y + 40, x : x + 30] = face
    detector = MediaPipeFaceDetector(FaceSettings())
    found = detector.candidates(scene)
    assert any(overlap_of_smaller(f.face, Box(x, y, x + 30, y + 40)) > 0.5 for f in found)
    assert detector.tiles_skipped > 0
    assert detector.tiles_run <= 8  # of 44: only tiles touching the face hold detail


def test_tiles_cover_the_image_and_overlap() -> None:
    tiles = tile_grid(1000, 700, 300, 60)
    covered = np.zeros((700, 1000), dtype=bool)
    for t in tiles:
        covered[t.y : t.y + t.side_y, t.x : t.x + t.side_x] = True
    assert covered.all()
    assert pyramid_sides(1600, 1200, 20)[-1] <= 20 / 0.065 + 1


def test_edge_windows_cover_the_whole_border_band() -> None:
    width, height, side = 690, 500, 240
    covered = np.zeros((height, width), dtype=bool)
    for x, y in edge_windows(width, height, side):
        assert 0 <= x <= width - side and 0 <= y <= height - side
        covered[y : y + side, x : x + side] = True
    band = np.ones((height, width), dtype=bool)
    band[side : height - side, side : width - side] = False
    assert covered[band].all()


@pytest.mark.parametrize("box", [(522, 60, 600, 240), (0, 415, 60, 590)])
def test_faces_cut_by_the_frame_edge_are_found(
    detector: FaceDetector, box: tuple[int, int, int, int]
) -> None:
    # The two half faces at the selfie's edges (60 and 78 px wide in a 600 px frame).
    found = detector.detect(decode_rgb(load_image_bytes("face_group_selfie.jpg")))
    assert any(overlap_of_smaller(f.box, Box(*box)) > 0.5 for f in found)


def test_a_coffee_cup_is_not_a_face(detector: FaceDetector) -> None:
    """The short-range model alone fires on it; its whole-frame detections need the
    full-range model's confirmation. (Known, documented: the unconfirmed edge pass still
    fires on the cat in scikit-image's `chelsea`, whose head touches the frame edge.)"""
    from skimage import data

    assert detector.detect(data.coffee()) == []


@pytest.mark.parametrize(
    ("name", "portrait"),
    [
        ("id_card_lt_specimen.png", (245, 77, 335, 202)),
        ("id_card_lt_specimen.png", (160, 104, 197, 140)),  # the ghost image
        ("id_card_pe_specimen_front_back.png", (295, 99, 328, 139)),  # the ghost image
        ("passport_qa_specimen.png", (20, 59, 130, 185)),
        ("residence_permit_pt_specimen.png", (276, 256, 309, 298)),  # the ghost image
    ],
)
def test_identity_document_portraits_and_ghost_images_are_found(
    detector: FaceDetector, name: str, portrait: tuple[int, int, int, int]
) -> None:
    """Boxes from the document labels (the photo area, shoulders included)."""
    found = detector.detect(decode_rgb(load_image_bytes(name)))
    assert any(overlap_of_smaller(f.box, Box(*portrait)) > 0.5 for f in found)


@pytest.mark.parametrize(
    ("name", "at_least"),
    [("face_meeting_room_b.jpg", 25), ("face_crowd_parade_small.jpg", 60)],
)
def test_small_faces_in_crowds_are_found_by_centerface(
    detector: FaceDetector, name: str, at_least: int
) -> None:
    """MediaPipe alone found 1 and 7 faces in these (the README of the images says
    about 25 and 60)."""
    found = detector.detect(decode_rgb(load_image_bytes(name)))
    assert sum("centerface" in f.attributes["families"] for f in found) >= at_least


def test_a_masked_face_is_found_and_covered_to_the_hairline(pipeline: Pipeline) -> None:
    data = load_image_bytes("face_medical_mask.jpg")
    result = pipeline.run(data)
    faces = [f for f in result.report.findings if f.kind == "face"]
    assert faces
    head = Box(*faces[0].box)
    # eye-checked head 193,14-358,218 (face 212,80-332,216): hairline and chin covered
    assert head.y0 < 40 and head.y1 > 210 and head.x0 < 205 and head.x1 > 345


@pytest.mark.parametrize("index", [0, 2, 3, 8, 12, 14])
def test_small_faces_on_a_busy_generated_scene_are_found(
    detector: FaceDetector, index: int
) -> None:
    """The generated corpus's composites with 20-32 px faces on a product scene, which
    CenterFace's coarse pass scores under its hint level: MediaPipe's fine tiles, where
    CenterFace's heatmap points, find them, and CenterFace confirms them at 64 px."""
    from bench.corpus import SEED, composite_case

    case, data = composite_case(index, SEED)
    found = detector.detect(decode_rgb(data))
    for face in case.faces:
        cx, cy = face.center
        assert any(f.box.x0 < cx < f.box.x1 and f.box.y0 < cy < f.box.y1 for f in found), (
            f"{face.width:.0f} px face missed"
        )


def test_faces_a_12_mp_frames_bilinear_levels_look_for_are_found() -> None:
    """At 4000x3000 the pyramid levels between half and full size (3116x2337 for faces
    of about 32-80 px, 2048x1536 for 49-122 px) are shrunk bilinearly; faces of those
    sizes on a photo's grain are still found there."""
    import cv2
    from skimage import data

    from redactor.image_context import ImageContext

    rng = np.random.default_rng(4)
    scene = (200 + rng.integers(-12, 13, (3000, 4000, 3))).astype(np.uint8)
    source = data.astronaut()[30:230, 150:300]
    placed = []
    for width, (x, y) in zip((45, 70, 110), ((600, 700), (2100, 1500), (3300, 2500)), strict=True):
        height = round(width * 4 / 3)
        scene[y : y + height, x : x + width] = cv2.resize(
            source, (width, height), interpolation=cv2.INTER_AREA
        )
        placed.append(Box(x, y, x + width, y + height))
    context = ImageContext(scene)
    found = MediaPipeFaceDetector(FaceSettings()).candidates(scene, context=context)
    for face in placed:
        assert any(overlap_of_smaller(f.face, face) > 0.5 for f in found), face
    assert set(context._levels) == {(3116, 2337), (2048, 1536)}  # both levels bilinear
