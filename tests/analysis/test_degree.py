import numpy as np

from livefilter.analysis.degree import (
    BLOCKS,
    DegreeEstimator,
    DegreeSmoother,
    FaceTracker,
    block_profile,
    degree_map,
    face_protection,
    grid_shape,
)

BOX = (0.4, 0.3, 0.6, 0.7)  # normalised x0, y0, x1, y1


def test_no_faces_is_the_scene_score():
    d = degree_map([], (40, 60), scene=0.7)
    assert d.shape == (40, 60) and np.allclose(d, 0.7)


def test_face_centre_protected_outside_untouched():
    d = degree_map([BOX], (100, 100))
    assert d.min() >= 0 and d.max() <= 1
    assert d[50, 50] < 0.1  # box centre: p ~ 1
    assert np.allclose(d[:, :35], 1.0) and np.allclose(d[:20, :], 1.0)  # outside the extended box
    d2 = degree_map([BOX], (100, 100), scene=0.5, face_strength=0.6)
    assert abs(d2[50, 50] - 0.5 * (1 - 0.6 * d2.max() / 0.5)) < 0.06 and np.isclose(d2[0, 0], 0.5)


def test_block_profile_follows_the_seed():
    nodes, values = block_profile()
    assert len(nodes) == BLOCKS + 2 and values[0] == values[-1] == 0
    assert values[BLOCKS // 2 + 1] == 1.0  # centre block
    assert np.all(np.diff(values[: BLOCKS // 2 + 2]) > 0)


def test_extended_by_20_percent():
    p = face_protection([BOX], (1000, 1000))
    cols = np.flatnonzero(p.max(axis=0) > 0)
    width = (cols[-1] - cols[0] + 1) / 1000
    assert abs(width - 0.2 * 1.2) < 0.01


def test_smooth_in_space_no_block_seams():
    d = degree_map([BOX], (400, 400))
    # neighbouring values never jump (a 5x5 block step would be ~0.2): the protection of a face 96 cells wide
    # falls off over many cells
    assert np.abs(np.diff(d, axis=0)).max() < 0.05 and np.abs(np.diff(d, axis=1)).max() < 0.05
    # and there are no creases either (continuous slope): the second difference is small everywhere
    assert np.abs(np.diff(d, 2, axis=0)).max() < 0.01 and np.abs(np.diff(d, 2, axis=1)).max() < 0.01


def test_temporal_stability_under_detection_jitter():
    rng = np.random.default_rng(0)
    tracker, smoother = FaceTracker(), DegreeSmoother()
    prev, changes = None, []
    for i in range(60):
        jitter = rng.normal(0, 0.01, 4)
        boxes, weights = tracker.update([np.array(BOX) + jitter])
        d = smoother.update(degree_map(boxes, (90, 160), weights=weights))
        if prev is not None and i > 10:
            changes.append(np.abs(d - prev).max())
        prev = d.copy()
    raw = [np.abs(degree_map([np.array(BOX) + rng.normal(0, 0.01, 4)], (90, 160))
                  - degree_map([np.array(BOX) + rng.normal(0, 0.01, 4)], (90, 160))).max() for _ in range(20)]
    assert max(changes) < 0.5 * np.mean(raw)  # jitter is damped


def test_faces_fade_in_and_out():
    tracker = FaceTracker(fade_in=3, hold=2, fade_out=2)
    ws = [tracker.update([BOX])[1][0] for _ in range(3)]
    assert ws[0] < ws[1] < ws[2] == 1.0
    gone = [tracker.update([])[1] for _ in range(6)]
    assert gone[0][0] == 1.0 and gone[1][0] == 1.0  # held
    assert gone[2][0] < 1.0 and len(gone[-1]) == 0  # fading, then dropped


def test_grid_shape():
    assert grid_shape(1080, 1920) == (135, 240)
    assert grid_shape(10, 10) == (2, 2)


class FakeDetector:
    def __init__(self, boxes):
        self.boxes, self.closed, self.calls = boxes, False, 0

    def detect(self, frame):
        self.calls += 1
        return self.boxes

    def close(self):
        self.closed = True


class FixedScene:
    def __init__(self, value):
        self.value, self.offered, self.closed = value, 0, False

    def offer(self, frame):
        self.offered += 1

    def close(self):
        self.closed = True


FRAME = np.zeros((180, 320, 3), np.uint8)


def test_estimator_nothing_to_do_is_none():
    est = DegreeEstimator(face_protect=True, face_detector=FakeDetector([]), scene=FixedScene(1.0))
    assert est.update(FRAME) is None and est.degree is None and est.scene_score == 1.0


def test_estimator_outside_faces_is_the_scene_score():
    det, scene = FakeDetector([BOX]), FixedScene(0.6)
    est = DegreeEstimator(face_detector=det, scene=scene)
    for _ in range(20):
        d = est.update(FRAME)
    assert d.shape == grid_shape(180, 320) and scene.offered == 20 and det.calls == 20
    assert np.allclose(d[:, :5], 0.6, atol=1e-3)  # outside the face: s (the smoothing has converged)
    assert d.min() < 0.1 and len(est.boxes) == 1  # on the face: protected
    first = est.degree
    est.update(FRAME)
    assert est.degree is not first  # a new array per update: the render loop swaps by reference


def test_estimator_scene_alone_and_faces_off():
    det = FakeDetector([BOX])
    est = DegreeEstimator(face_protect=False, face_detector=det, scene=FixedScene(0.5))
    d = est.update(FRAME)
    assert det.calls == 0 and np.allclose(d, 0.5) and len(est.boxes) == 0
    est.scene.value = 1.0
    for _ in range(30):
        d = est.update(FRAME)
    assert d is None or d.min() >= 0.999  # back to the full look, eased (never a jump down to None at once)


def test_estimator_close_owns_only_what_it_made():
    det, scene = FakeDetector([]), FixedScene(1.0)
    est = DegreeEstimator(face_detector=det, scene=scene)
    est.close()
    est.close()
    assert not det.closed and scene.closed  # the caller's detector stays open; the scene worker is stopped
