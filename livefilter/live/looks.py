"""The live pipeline's look: fitted or loaded on the look worker (one background thread at low priority) and
swapped in atomically; a one-photo look's readings picked and saved. :class:`LookControl` is the part of
:class:`~livefilter.live.pipeline.LivePipeline` that does this; the pipeline's ``__init__`` sets the state it uses
(``_looks``, ``_backend_lock``, ``_release_lock``, ``look``...)."""

from __future__ import annotations

import concurrent.futures
import logging
import os
import re
import threading
from pathlib import Path

from ..analysis.scene import SceneFeatures
from ..errors import InputError, LiveFilterError
from ..look import LOOK_EXT, Look, as_look, fit_look
from ..look.character import character
from ..look.look import pick_option
from ..luts import look_file_kind, read_lut
from ..luts.lut import Lut
from ..render import create_backend
from .threads import close_all

log = logging.getLogger("livefilter.live.pipeline")
_SAVING = threading.Lock()


class LookControl:
    """The look worker's side of the live pipeline (a mixin of LivePipeline)."""

    #: a template photo over 100 megapixels is fitted (``live --allow-large``) instead of refused
    allow_large: bool = False

    @property
    def candidate(self) -> tuple[int, int]:
        """(which reading is live, how many the look has): (1, 1) for a look without candidates."""
        look = self.look
        return (look.picked, max(1, len(look.candidates))) if look is not None else (1, 1)

    def pick_candidate(self, n: int) -> concurrent.futures.Future:
        """Make reading ``n`` (1-based) of the current look live, on the look worker (its LUT is prepared there,
        then swapped in: the output never waits)."""
        return self._submit(self._pick, n)

    def pick_next(self) -> concurrent.futures.Future:
        """The next reading of the live look (the preview's 'c'), worked out on the look worker when its turn comes,
        so quick presses each move one reading on, and a press during a template change applies to the new look."""
        return self._submit(self._pick_next)

    def _pick_next(self) -> str:
        n, k = self.candidate
        if k > 1:
            return self._pick(n % k + 1)
        self.status = "this look has one reading"  # 'c' said nothing: was the key taken?
        return self.look_name or ""

    def _pick(self, n: int) -> str:
        if self.look is None:
            raise LiveFilterError("no look with readings is live")
        look = self.look.pick(n)
        self._set_luts([look.lut])
        self._show_look(look, look.lut, self._reading_name(look), look.meta.get("confidence"))
        return self.look_name

    def save_look(self, folder: str | os.PathLike = ".") -> concurrent.futures.Future:
        """Save the live look at the live strength as LOOK.cube and LOOK.look.npz in ``folder`` (new names, never
        over a file), on a thread of its own at normal priority (not behind the look worker's fits, at nice 19: on
        a busy machine 's' waited minutes there); the future gives the two paths."""
        self._check_open()
        fut = concurrent.futures.Future()
        # what is live now, when 's' is pressed
        args = (Path(folder), self.look, self._lut, self.look_name, self.strength)

        def run():
            try:
                with _SAVING:  # one save at a time: each finds a free name before it writes
                    fut.set_result(self._guarded((True, "not saved"), self._save, *args))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
                fut.set_exception(exc)

        threading.Thread(target=run, name="lf-save").start()
        return fut

    def _save(self, folder: Path, look, lut, name, strength: float) -> tuple[Path, Path]:
        look = look if look is not None else (Look(lut=lut) if lut is not None else None)
        if look is None:
            raise LiveFilterError("no look is live")
        base = re.sub(r"[^\w.-]+", "_", name or "look").strip("._") or "look"
        n, stem = 1, base
        while (folder / f"{stem}.cube").exists() or (folder / f"{stem}{LOOK_EXT}").exists():
            n += 1
            stem = f"{base}-{n}"
        kept = look.with_strength(strength)
        paths = kept.save(folder / f"{stem}.cube"), kept.save(folder / f"{stem}{LOOK_EXT}")
        self.status = f"saved {stem}.cube and {LOOK_EXT}"  # short: the HUD line also holds the reading hint
        log.info("saved %s and %s", *paths)
        return paths

    def _submit(self, fn, *args, log_failure: bool = True, failure: str = "look not changed"
                ) -> concurrent.futures.Future:
        self._check_open()  # (set_template, pick_candidate / pick_next: as process() and run())
        return self._spawn(self._guarded, (log_failure, failure), fn, *args)

    def _spawn(self, fn, *args) -> concurrent.futures.Future:
        """Queue ``fn`` on the look worker, counted as a user of the backend and estimator until it is done."""
        with self._release_lock:
            self._looks_pending += 1
        try:
            fut = self._looks.submit(fn, *args)
        except RuntimeError:  # the executor was shut down by close() meanwhile
            self._look_done(None)
            self._check_open()  # raises: close() shuts the executor down once it is closed
            raise
        fut.add_done_callback(self._look_done)
        return fut

    def _guarded(self, report: tuple[bool, str], fn, *args):
        log_failure, failure = report
        try:
            return fn(*args)
        except Exception as exc:
            msg = str(exc) if isinstance(exc, LiveFilterError) else f"{type(exc).__name__}: {exc}"
            if self._closed:  # closed during a fit: nothing to report to anyone
                log.debug("%s (the pipeline closed): %s", failure, msg)
                raise
            self.errors.append(msg)
            self.status = f"{failure}: {msg}"
            if log_failure:
                log.error("%s: %s", failure, msg)
            raise

    @staticmethod
    def _reading_name(look) -> str:
        if not look.candidates:
            return look.name
        c = look.candidates[look.picked - 1]
        return f"{look.name} [{look.picked}/{len(look.candidates)} {c.kind}]"

    def _show_look(self, look, lut, name: str, conf) -> None:
        words = character(lut)  # first: the HUD reads the live reading's number and its words together
        self.look, self._lut, self.look_character = look, lut, words
        self.look_name, self.has_look = name, True
        reading = look.candidates[look.picked - 1] if look is not None and look.candidates else None
        conf = reading.confidence if reading is not None else conf
        self.look_confidence = conf.get("level") if conf else None
        self.status = f"look: {name}"

    def set_template(self, template, original=None, *, assume_look: bool = False, pick: int | None = None,
                     log_failure: bool = True) -> concurrent.futures.Future:
        """Fit (or load) a look in the background and swap it in when ready. ``template`` is a look file
        (.cube, .3dl, .look.npz, HaldCLUT .png), a photo (alone, or with ``original``), a
        :class:`~livefilter.Look` or a :class:`~livefilter.Lut`. What a file is comes from
        :func:`livefilter.luts.look_file_kind` (a .png is a HaldCLUT only when its content says so, or with
        ``assume_look``). The previous look stays live meanwhile and if this fails (the error is kept in
        ``errors`` and the returned future, and logged unless ``log_failure`` is False: a caller that reports the
        future's error itself, as the command line does for the first look). ``pick``: which of a one-photo look's
        readings goes live (None: the look's own pick)."""
        return self._submit(self._load_look, template, original, assume_look, pick, log_failure=log_failure)

    def _look_done(self, _fut) -> None:
        with self._release_lock:
            self._looks_pending -= 1
        self._release_if_idle()

    def _load_look(self, template, original, assume_look=False, pick=None):
        conf, photo, look = None, None, None
        if isinstance(template, Lut):
            lut, name = template, template.title or "lut"
        elif isinstance(template, Look):
            look = template
        elif not isinstance(template, (str, os.PathLike)):  # a raw TypeError from pathlib
            raise InputError(f"a template is a look file, a photo, a Look or a Lut, got {type(template).__name__}")
        else:
            p = Path(template)
            kind = "image" if original is not None else look_file_kind(p, assume_look=assume_look)
            if kind == "lut" and assume_look:  # the user said it is a look: no content check
                lut = read_lut(p, check_content=False)
                name = lut.title or p.stem
            else:
                # a photo's fit keeps its scene (meta["scene"], below) where the scene part is on; a video's
                # stills: no one scene
                look = (fit_look(p, original, scene=self.estimator.scene is not None, allow_large=self.allow_large)
                        if kind == "image" else as_look(p))
        where = template if isinstance(template, (str, os.PathLike)) else None  # the file an error names
        if look is not None:
            look = pick_option(look, pick, where) if pick not in (None, look.picked) else look
            lut, name, conf = look.lut, self._reading_name(look), look.meta.get("confidence")
        elif pick not in (None, 1):
            raise InputError(f"--pick {pick}: a LUT file has one look", where)
        if look is not None and "scene" in look.meta:  # a photo's fit, a .look.npz from one: the template's scene
            photo = SceneFeatures.from_meta(look.meta["scene"])
        if self._closed:
            raise LiveFilterError("the pipeline closed during the fit")
        self._set_scene_template(photo)
        # a per-segment look (fit --segments): the frames are segmented and each region gets its category's
        # LUT, mixed by the soft mask in the render pass; any other look: one LUT, no segmenter
        segmented = look is not None and look.segmented
        # (the flag is up before the LUTs swap in and down after: a one-LUT backend ignores a mask)
        if segmented:
            self.estimator.set_segments(True)  # loads the model here, on the look worker
            self._segmented = True
            self._set_luts(look.category_luts())
        else:
            self._set_luts([lut])  # prepares (bakes/uploads) first, then swaps by reference
            self._segmented = False
            self.estimator.set_segments(False)
        self._show_look(look, lut, name, conf)
        if look is not None and len(look.candidates) > 1 and not self._closed:  # the other readings ready
            self._spawn_prepare(look)  # before 'c' asks for them
        return name

    def _set_luts(self, luts) -> None:
        luts = list(luts)
        with self._backend_lock:
            if len(luts) == 1:
                self.backend.set_lut(luts[0])
            else:
                self.backend.set_luts(luts)
            self._backend_luts = luts
            self._whole = all(lut.monochrome for lut in luts)  # black-and-white: faces and scenes get all of it

    def _fall_back_to_cpu(self, exc: Exception) -> None:
        """The GPU failed mid-stream: go on with the CPU backend and the same look (one log line)."""
        old = self.backend
        with self._backend_lock:
            cpu = create_backend("cpu")
            cpu.interp = getattr(old, "interp", cpu.interp)
            if self._backend_luts:
                if len(self._backend_luts) == 1:
                    cpu.set_lut(self._backend_luts[0])
                else:
                    cpu.set_luts(self._backend_luts)
            self.backend = cpu
        log.warning("render backend %s failed (%s); going on with the cpu backend", old.name, exc)
        self.status = f"{old.name} failed; rendering on the cpu"
        close_all([old])

    def _prepare_readings(self, look, todo=None) -> None:
        """Build the other readings' render tables ahead, the next one first, one table per turn on the look worker:
        the rest is queued again behind whatever came meanwhile, so 'c' waits for one table at most (on a busy
        machine the worker, at nice 19, took minutes for all of them, and 'c' waited behind)."""
        n = len(look.candidates)
        todo = [(look.picked - 1 + i) % n for i in range(1, n)] if todo is None else todo
        live = self.look
        if not todo or self._closed or live is None or live.candidates is not look.candidates:
            return
        try:
            self.backend.prepare(look.candidates[todo[0]].lut)
        except Exception as exc:  # noqa: BLE001 - only a head start: set_lut reports a real failure
            log.debug("reading not prepared ahead: %s", exc)
        if len(todo) > 1:
            self._spawn_prepare(look, todo[1:])

    def _spawn_prepare(self, look, todo=None) -> None:
        try:
            self._spawn(self._prepare_readings, look, todo)
        except LiveFilterError:
            pass  # closed meanwhile

    def _set_scene_template(self, photo) -> None:
        """The template photo's scene features for the scene similarity (on the look worker, before the swap);
        a look without a photo, or a scene model that fails, leaves s at 1 (logged) and the look still loads."""
        scene = self.estimator.scene
        if scene is None:
            return
        if photo is None:
            scene.clear_template()
            return
        try:
            scene.set_template(photo)
        except (LiveFilterError, OSError, ValueError, RuntimeError) as exc:
            scene.clear_template()
            log.warning("scene similarity off for this look: %s", exc)

