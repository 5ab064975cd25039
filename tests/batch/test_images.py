"""Photos at rest get the rendering degree a video frame gets: faces, and the scene similarity of a look that keeps
its template's scene (a .look.npz from fit)."""

import warnings

import numpy as np

import livefilter as lf
from livefilter.batch.degree import FrameDegree, scene_of
from livefilter.batch.folders import apply_folder
from livefilter.batch.images import apply_image, grade_image
from livefilter.resources import DATA_DIR


def _look_with_a_scene():
    template = lf.read_image(DATA_DIR / "sample_after.jpg")  # a portrait
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        look = lf.fit_look(template, lf.read_image(DATA_DIR / "sample_before.jpg"))  # keeps the template's scene
    assert "scene" in look.meta
    return look


def test_a_photo_gets_the_degree_a_video_frame_gets(tmp_path):
    look = _look_with_a_scene()
    parrots = lf.read_image(DATA_DIR / "sample_test.jpg")  # unlike the portrait: less of the look
    # what apply_video computes for a first frame (FrameDegree with the look's scene), faces off
    est = FrameDegree(False, every=1, scene=scene_of(look))
    degree = est.update(parrots)
    est.close()
    assert degree is not None and float(degree.max()) < 1.0
    expected = look.apply(parrots, degree=degree)
    assert np.array_equal(grade_image(look, parrots, face_protect=False), expected)
    assert not np.array_equal(expected, look.apply(parrots))  # the scene made a difference
    # a file and a folder too, through the .look.npz that carries the scene
    look.save(tmp_path / "l.look.npz")
    src = tmp_path / "parrots.png"
    lf.write_image(src, parrots)
    apply_image(tmp_path / "l.look.npz", src, tmp_path / "one.png", face_protect=False)
    assert np.array_equal(lf.read_image(tmp_path / "one.png"), expected)
    (tmp_path / "out").mkdir()
    apply_folder(tmp_path / "l.look.npz", [src], tmp_path / "out", face_protect=False, workers=1)
    assert np.array_equal(lf.read_image(tmp_path / "out" / "parrots.png"), expected)


def test_a_photo_one_pixel_high_or_wide_is_graded_with_a_look_that_has_its_scene(tmp_path):
    """A look with its template's scene on a photo 1 pixel high or wide (a divider strip, a 1x1 spacer): the degree
    map was 2 cells a side at least, larger than the photo, and the renderer refused it ("degree map (2, 2) must be
    the frame's size (1, 1) or smaller"), while a .cube of the same look graded it."""
    look = _look_with_a_scene()
    parrots = lf.read_image(DATA_DIR / "sample_test.jpg")
    for h, w in ((1, 1), (1, 300), (300, 1), (1, 3), (3, 2)):
        strip = np.ascontiguousarray(parrots[:h, :w])
        est = FrameDegree(False, every=1, scene=scene_of(look))
        degree = est.update(strip)
        est.close()
        assert degree is not None and degree.shape[0] <= h and degree.shape[1] <= w  # the scene is unlike: a map
        out = grade_image(look, strip, face_protect=True)
        assert out.shape == strip.shape and np.array_equal(out, look.apply(strip, degree=degree))


def test_apply_says_what_share_of_the_look_a_photos_scene_gave_it(tmp_path, capsys):
    """`apply LOOK.look.npz photo` on an unlike scene says the share (the scene similarity) and how to have it all;
    a like scene, --no-scene and a look without a scene say nothing of it."""
    from livefilter.analysis.scene import scene_similarity
    from livefilter.cli import main

    look = _look_with_a_scene()
    look.save(tmp_path / "l.look.npz")
    parrots, portrait = DATA_DIR / "sample_test.jpg", DATA_DIR / "sample_before.jpg"
    s = scene_similarity(DATA_DIR / "sample_after.jpg", parrots)
    assert s < 1
    runs = [([parrots], f"its scene differs from the template's: {s:.0%} of the look, --no-scene for all of it"),
            ([portrait], None), ([parrots, "--no-scene"], None)]
    for k, (extra, said) in enumerate(runs):
        assert main(["apply", str(tmp_path / "l.look.npz"), str(extra[0]), "-o", str(tmp_path / f"{k}.jpg"),
                     *extra[1:]]) == 0
        out = capsys.readouterr().out
        assert (said in out) if said else "of the look" not in out, (extra, out)
    # several photos: one line that the cut applies (each photo's share is its own)
    (tmp_path / "out").mkdir()
    assert main(["apply", str(tmp_path / "l.look.npz"), str(parrots), str(portrait), "--out-dir",
                 str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "scene: a photo or a frame unlike the template's gets 80 to 100 % of the look" in out, out


def test_a_gif_and_a_jpeg_2000_are_graded_into_png(tmp_path, capsys):
    # fit read them, apply refused them ("not an image or video file"): a look learnt from a file it could not grade
    from PIL import Image

    from livefilter.cli import main

    img = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "still.gif")
    Image.fromarray(img).save(tmp_path / "scan.jp2")
    identity = tmp_path / "identity.cube"
    lf.write_lut(identity, lf.Lut.identity(2))
    out = tmp_path / "graded"
    out.mkdir()
    assert main(["apply", str(identity), str(tmp_path / "still.gif"), str(tmp_path / "scan.jp2"), "--out-dir",
                 str(out)]) == 0, capsys.readouterr().err
    for name, src in (("still", "still.gif"), ("scan", "scan.jp2")):
        assert np.array_equal(lf.read_image(out / f"{name}.png"), lf.read_image(tmp_path / src))
    assert main(["apply", str(identity), str(tmp_path / "still.gif"), "-o", str(tmp_path / "x.gif")]) == 2
    assert "unsupported output extension '.gif'" in capsys.readouterr().err  # read, not written (256 colours)


def test_a_folder_leaves_its_animated_images_out(tmp_path, capsys):
    # an animated GIF in a folder became a failed file (exit 1) once still GIFs were graded
    from PIL import Image

    from livefilter.cli import main

    frames = [Image.fromarray(np.full((20, 20, 3), 60 * i, np.uint8)) for i in range(3)]
    frames[0].save(tmp_path / "moving.gif", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "moving.webp", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "still.gif")
    identity = tmp_path.parent / f"{tmp_path.name}_identity.cube"
    lf.write_lut(identity, lf.Lut.identity(2))
    out = tmp_path.parent / f"{tmp_path.name}_out"
    out.mkdir()
    assert main(["apply", str(identity), str(tmp_path), "--out-dir", str(out)]) == 0
    said = capsys.readouterr().out
    assert "left out 2 files that are not a still photo or a video" in said and "moving.gif" in said
    assert sorted(f.name for f in out.iterdir()) == ["still.png"]


def test_an_animated_gif_asked_for_as_a_video_says_how(tmp_path, capsys):
    """`apply LOOK anim.gif -o anim.mp4` said "unsupported output extension '.mp4'; use one of .png, .jpg...", as if
    .mp4 were unknown; a still photo into a .mp4 said the same."""
    from PIL import Image

    from livefilter.cli import main

    frames = [Image.fromarray(np.full((20, 20, 3), 60 * i, np.uint8)) for i in range(3)]
    frames[0].save(tmp_path / "my clip.gif", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "still.png")
    identity = tmp_path / "identity.cube"
    lf.write_lut(identity, lf.Lut.identity(2))
    assert main(["apply", str(identity), str(tmp_path / "my clip.gif"), "-o", str(tmp_path / "out.mp4")]) == 2
    err = capsys.readouterr().err
    assert err == (f"livefilter: error: {tmp_path / 'my clip.gif'}: an animated image (3 frames) is not read as a "
                   "video: convert it first (ffmpeg -i 'my clip.gif' 'my clip.mp4'), then grade the video\n"), err
    assert main(["apply", str(identity), str(tmp_path / "still.png"), "-o", str(tmp_path / "out.mp4")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"livefilter: error: {tmp_path / 'out.mp4'}: a photo is graded into a photo; use one of "
                          ".png, .jpg"), err
    assert not (tmp_path / "out.mp4").exists()


def test_a_black_and_white_look_greys_faces_and_unlike_scenes_too(tmp_path, capsys):
    """A black-and-white look on a portrait kept the face in colour (face protection gave it a share of the look: a
    colour splash in a grey picture), and a .look.npz's unlike scene got 80-90 % of it: a tinted picture. Such a look
    is given whole; `apply` says no share."""
    from livefilter.cli import main

    portrait = DATA_DIR / "sample_after.jpg"  # a face
    x = lf.identity_table(17)
    grey = np.repeat((x @ np.array([0.299, 0.587, 0.114]))[..., None], 3, -1)
    bw = lf.Look(lut=lf.Lut(grey, title="bw"))
    assert bw.monochrome
    rgb = lf.read_image(portrait)
    out = grade_image(bw, rgb)  # face protection on
    assert np.abs(out.astype(int) - out.mean(-1, keepdims=True)).max() <= 1  # grey everywhere, the face too
    # a .look.npz with its template's scene (a colour photo's): its black-and-white reading on an unlike scene
    look = _look_with_a_scene()
    bw_scene = lf.Look(lut=bw.lut, meta=look.meta)
    bw_scene.save(tmp_path / "bw.look.npz")
    assert main(["apply", str(tmp_path / "bw.look.npz"), str(DATA_DIR / "sample_test.jpg"), "-o",
                 str(tmp_path / "parrots.png")]) == 0
    said = capsys.readouterr().out
    assert "of the look" not in said, said
    parrots = lf.read_image(tmp_path / "parrots.png")
    assert np.abs(parrots.astype(int) - parrots.mean(-1, keepdims=True)).max() <= 1
    colour = grade_image(look, rgb)  # a colour look still spares the face
    assert not np.array_equal(colour, look.apply(rgb))
