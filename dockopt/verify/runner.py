"""verify(): build both Dockerfiles, measure them, compare them, clean up."""
from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

from . import features as feat
from .build import build_buildkit, build_sdk, engine_fault, frontend_unavailable
from .compare import compare_config, compare_files, run_smoke
from .edits import appended, choose_source_file, context_files, detect_manifests
from .engine import RUN_LABEL, TRANSPORT_ERRORS, Engine, EngineFault, connect
from .layers import final_filesystem, image_stats, read_saved_image, save_image
from .progress import Progress
from .report import (
    BuildOutcome,
    Cleanup,
    Equivalence,
    ImageReport,
    Rebuild,
    SmokeResult,
    VerifyReport,
    human_bytes,
)

BACKENDS = ("auto", "sdk", "buildkit")


class _CannotVerify(Exception):
    pass


def verify(original: str, rewritten: str, context_dir: Path, *, dockerfile_name: str = "Dockerfile",
           smoke: str | None = None, backend: str = "auto", timeout: float = 600,
           manifests: list[str] | None = None, source_file: str | None = None,
           progress: bool = False, build_args: dict[str, str] | None = None,
           host: str | None = None, rebuild_repeats: int = 1) -> VerifyReport:
    """Build `original` and `rewritten` in `context_dir` and report how they compare.

    `timeout` bounds each build and the smoke run separately.  `build_args`
    go to both builds; their values are replaced by *** in everything this
    returns, raises or shows.  `host` is the engine to use (default: what
    DOCKER_HOST names).  Raises EngineUnavailable when no engine answers and
    EngineFault (one line) when it fails mid-run: it stops, or the disk holding
    its data root fills up.  Every other problem (a file that does not build,
    a hanging build, a feature this engine cannot build) is reported in the
    returned VerifyReport.  `rebuild_repeats` runs each edit scenario that
    many times (a fresh edit each time) and reports the run of median
    duration, with every duration in `Rebuild.samples`.  Whatever happens, including Ctrl-C, what the run
    created on the engine is removed (when the engine died: by the next run
    against it) and edited context files are restored before this returns or
    raises.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    context_dir = Path(context_dir).resolve()
    if not context_dir.is_dir():
        raise ValueError(f"build context {context_dir} is not a directory")
    source_file = _context_rel(context_dir, source_file) if source_file else None
    manifests = [_context_rel(context_dir, m) for m in manifests] if manifests else None

    build_args = dict(build_args or {})
    started = time.monotonic()
    engine = connect(host=host)
    engine.secrets = tuple(sorted({v for v in build_args.values() if v}, key=len, reverse=True))
    swept = engine.sweep_stale()
    prog = Progress(progress)
    workdir = _workdir(context_dir)
    run = _Run(engine, prog, workdir, context_dir, dockerfile_name, timeout, build_args,
               repeats=max(1, int(rebuild_repeats)))
    if swept:
        run.notes.append(f"removed {swept} objects that earlier verifications left on this engine when they died")
    try:
        try:
            parts = run.execute(original, rewritten, smoke=smoke, backend=backend,
                                manifests=manifests, source_file=source_file)
        except TRANSPORT_ERRORS as exc:
            # an engine call outside a build (saving, inspecting, the smoke run) failed
            if engine.alive():
                raise
            raise EngineFault(f"the Docker engine stopped during the verification ({prog.current or 'starting'})") from exc
    except EngineFault as exc:
        prog.close()
        left = _cleanup(engine, workdir).leftovers
        message = engine.redact(str(exc))
        if left:
            message += ("; what this run created could not all be removed now: "
                        "the next verification against this engine removes it")
        raise EngineFault(message) from None
    except BaseException:
        prog.close()
        _cleanup(engine, workdir)
        raise
    prog.close()
    cleanup = _cleanup(engine, workdir)
    report = VerifyReport(run_id=engine.run_id, engine_version=engine.version, engine_host=engine.host,
                          context_dir=str(context_dir), dockerfile_name=dockerfile_name,
                          cleanup=cleanup, seconds=time.monotonic() - started, **parts)
    return _redacted(report, engine.redact) if engine.secrets else report


def _redacted(obj, redact):
    """A copy of a report (dataclasses, tuples, lists, dicts) with every string redacted."""
    if isinstance(obj, str):
        return redact(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **{f.name: _redacted(getattr(obj, f.name), redact)
                                           for f in dataclasses.fields(obj) if f.init})
    if isinstance(obj, (tuple, list)):
        return type(obj)(_redacted(v, redact) for v in obj)
    if isinstance(obj, dict):
        return {_redacted(k, redact): _redacted(v, redact) for k, v in obj.items()}
    return obj


def _context_rel(context_dir: Path, path: str) -> str:
    full = (context_dir / path).resolve()
    try:
        rel = full.relative_to(context_dir)
    except ValueError:
        raise ValueError(f"{path} is not inside the build context {context_dir}") from None
    if not full.is_file():
        raise ValueError(f"{path} is not a file in the build context {context_dir}")
    return rel.as_posix()


def _workdir(context_dir: Path) -> Path:
    """A private temp directory that is not inside the build context."""
    for base in (None, str(Path.home()), "/var/tmp"):
        path = Path(tempfile.mkdtemp(prefix="dockopt-verify-", dir=base)).resolve()
        if context_dir not in path.parents:
            return path
        shutil.rmtree(path, ignore_errors=True)
    raise RuntimeError("no temp directory outside the build context")


def _cleanup(engine: Engine, workdir: Path) -> Cleanup:
    """Engine cleanup that a second Ctrl-C cannot cut short (it is re-raised after)."""
    interrupted = None
    result = Cleanup()
    for _ in range(3):
        try:
            result = engine.cleanup()
            break
        except KeyboardInterrupt as exc:
            interrupted = exc
    shutil.rmtree(workdir, ignore_errors=True)
    if interrupted is not None:
        raise interrupted
    return result


class _Run:
    def __init__(self, engine: Engine, prog: Progress, workdir: Path, context_dir: Path,
                 dockerfile_name: str, timeout: float, build_args: dict[str, str] | None = None,
                 repeats: int = 1):
        self.engine, self.prog, self.workdir = engine, prog, workdir
        self.repeats = repeats
        self.build_args = dict(build_args or {})
        self.context_dir, self.dockerfile_name, self.timeout = context_dir, dockerfile_name, timeout
        self.notes: list[str] = []
        self.backend = "sdk"

    # -- planning ------------------------------------------------------------

    def _plan(self, texts: dict[str, str], backend: str) -> None:
        needs = {role: feat.needed_features(text) for role, text in texts.items()}
        self.features = needs
        wants_buildkit = any(feat.needs_buildkit(f) for f in needs.values())
        if backend == "sdk" and wants_buildkit:
            used = frozenset().union(*needs.values()) & feat.BUILDKIT_ONLY
            raise _CannotVerify(f"cannot verify with the sdk backend (classic builder): "
                                f"{feat.describe(used)} need BuildKit; use backend 'buildkit' or 'auto'")
        # One backend for both files, so that times and cache counts compare.
        self.backend = "buildkit" if backend == "buildkit" or wants_buildkit else "sdk"
        if self.backend == "buildkit":
            cli = self.engine.buildkit_cli()
            if isinstance(cli, str):
                raise _CannotVerify(f"cannot verify with this engine: {cli}")
            self.notes.append(f"BuildKit through {cli.path} ({cli.how}, client {cli.version})")
        for role, text in texts.items():
            if feat.syntax_directive(text):
                continue        # the named frontend may support more; the build will tell
            missing = feat.unsupported_by_builtin_frontend(needs[role], self.engine.version)
            if missing:
                raise _CannotVerify(
                    f"cannot verify with this engine: the {role} Dockerfile uses {feat.describe(missing)}, "
                    f"which the Dockerfile frontend built into Docker Engine {self.engine.version} "
                    f"does not support (it needs a dockerfile:1.4+ frontend)")

    # -- building ------------------------------------------------------------

    def _build(self, text: str, *, nocache: bool, role: str) -> BuildOutcome:
        """One build; raises EngineFault when it failed because of the engine."""
        if self.backend == "buildkit":
            outcome = build_buildkit(self.engine, text, self.context_dir, self.workdir, nocache=nocache,
                                     timeout=self.timeout, progress=self.prog,
                                     features=self.features[role], build_args=self.build_args)
        else:
            outcome = build_sdk(self.engine, text, self.context_dir, nocache=nocache,
                                timeout=self.timeout, progress=self.prog, build_args=self.build_args)
        fault = engine_fault(self.engine, outcome, role)
        if fault:
            raise EngineFault(fault)
        return outcome

    def _cold(self, role: str, text: str) -> tuple[BuildOutcome, str]:
        """The no-cache build, falling back from an unreachable `# syntax=` frontend."""
        self.prog.phase(f"{role}: cold build")
        outcome = self._build(text, nocache=True, role=role)
        directive = feat.syntax_directive(text)
        if outcome.ok or not directive or self.backend != "buildkit":
            return outcome, text
        index, ref = directive
        if not frontend_unavailable(outcome.error or outcome.log_tail, ref):
            return outcome, text
        missing = feat.unsupported_by_builtin_frontend(self.features[role], self.engine.version)
        if missing:
            return replace(outcome, unsupported=(
                f"cannot verify with this engine: the frontend {ref} named by `# syntax=` cannot be "
                f"fetched, and the frontend built into Docker Engine {self.engine.version} does not "
                f"support {feat.describe(missing)}")), text
        # Same file with the directive blanked (line numbers kept): the engine's
        # built-in frontend understands everything else this file uses.
        lines = text.splitlines(keepends=True)
        lines[index] = "#\n"
        fallback = "".join(lines)
        self.notes.append(f"{role}: the `# syntax={ref}` frontend could not be fetched; built with "
                          f"the engine's built-in Dockerfile frontend instead")
        self.prog.phase(f"{role}: cold build (built-in frontend)")
        return self._build(fallback, nocache=True, role=role), fallback

    def _analyse(self, image_id: str):
        self.prog.phase("analysing image layers")
        tar = self.workdir / f"{uuid.uuid4().hex}.tar"
        try:
            save_image(self.engine.client, image_id, tar)
            saved = read_saved_image(tar)
        finally:
            tar.unlink(missing_ok=True)
        files, visible = final_filesystem(saved.layers)
        size = self.engine.client.images.get(image_id).attrs.get("Size", 0)
        stats = image_stats(image_id, size, saved, files, visible, skip_history=f"LABEL {RUN_LABEL}=")
        return stats, saved.config, files

    def _one(self, role: str, text: str, source: str | None, manifests: list[str]):
        cold, text = self._cold(role, text)
        if not cold.ok:
            return ImageReport(role=role, build=cold), None
        stats, config, files = self._analyse(cold.image_id)
        rebuilds = []
        self.prog.phase(f"{role}: rebuild, nothing changed")
        rebuilds.append(Rebuild(scenario="no-change", build=self._build(text, nocache=False, role=role)))
        for scenario, edited, why_not in (
                ("source-edit", [source] if source else [],
                 "no source file that the Dockerfile copies in bulk was found"),
                ("manifest-edit", manifests, "no dependency manifest was found")):
            if not edited:
                rebuilds.append(Rebuild(scenario=scenario, skipped=why_not))
                continue
            outcomes = []
            for n in range(self.repeats):
                count = f" ({n + 1}/{self.repeats})" if self.repeats > 1 else ""
                self.prog.phase(f"{role}: rebuild after editing {', '.join(edited)}{count}")
                with appended(self.context_dir, edited, uuid.uuid4().hex):
                    outcomes.append(self._build(text, nocache=False, role=role))
                if not outcomes[-1].ok:
                    break
            ranked = sorted(outcomes, key=lambda o: o.seconds) if all(o.ok for o in outcomes) else outcomes[-1:]
            rebuilds.append(Rebuild(scenario=scenario, edited=tuple(edited), build=ranked[(len(ranked) - 1) // 2],
                                    samples=tuple(o.seconds for o in outcomes)))
        return ImageReport(role=role, build=cold, stats=stats, rebuilds=tuple(rebuilds)), (config, files)

    # -- the whole run -----------------------------------------------------------

    def execute(self, original: str, rewritten: str, *, smoke, backend, manifests, source_file) -> dict:
        texts = {"original": original, "rewritten": rewritten}
        try:
            self._plan(texts, backend)
        except _CannotVerify as exc:
            return {"verdict": "cannot-verify", "summary": str(exc), "backend": self.backend,
                    "original": None, "rewritten": None, "unsupported": str(exc),
                    "notes": tuple(self.notes)}

        files = context_files(self.context_dir)
        source = source_file or choose_source_file(original, files, self.dockerfile_name)
        manifests = manifests or detect_manifests(original, files)
        if source and source in manifests:
            source = None

        reports, analyses = {}, {}
        for role, text in texts.items():
            reports[role], analyses[role] = self._one(role, text, source, manifests)

        unsupported = next((r.build.unsupported for r in reports.values() if r.build.unsupported), None)
        equivalence = None
        if analyses["original"] and analyses["rewritten"]:
            (cfg_a, files_a), (cfg_b, files_b) = analyses["original"], analyses["rewritten"]
            self.prog.phase("comparing images")
            smoke_result = None
            if smoke:
                self.prog.phase(f"smoke: {smoke}")
                smoke_result = SmokeResult(
                    command=smoke,
                    original=run_smoke(self.engine, reports["original"].build.image_id, smoke, files_a,
                                       self.timeout),
                    rewritten=run_smoke(self.engine, reports["rewritten"].build.image_id, smoke, files_b,
                                        self.timeout))
            equivalence = Equivalence(
                config=compare_config(cfg_a.get("config") or {}, cfg_b.get("config") or {}),
                filesystem=compare_files(files_a, files_b), smoke=smoke_result)

        verdict = _verdict(reports, equivalence, unsupported)
        return {"verdict": verdict, "summary": _summary(verdict, reports, equivalence, unsupported),
                "backend": self.backend, "original": reports["original"],
                "rewritten": reports["rewritten"], "equivalence": equivalence,
                "unsupported": unsupported, "notes": tuple(self.notes)}


def _verdict(reports, equivalence, unsupported) -> str:
    if unsupported:
        return "cannot-verify"
    a, b = reports["original"].build.ok, reports["rewritten"].build.ok
    if not a and not b:
        return "both-failed"
    if not a:
        return "original-failed"
    if not b:
        return "rewritten-failed"
    return "equivalent" if equivalence is not None and equivalence.equivalent else "different"


def _failure(report: ImageReport) -> str:
    b = report.build
    if b.timed_out:
        return f"the {report.role} build timed out ({b.error})"
    return f"the {report.role} Dockerfile does not build: {b.error or 'unknown error'}"


def _summary(verdict, reports, equivalence, unsupported) -> str:
    if verdict == "cannot-verify":
        return unsupported
    if verdict != "equivalent" and verdict != "different":
        return "; ".join(_failure(r) for r in reports.values() if not r.build.ok)
    parts = []
    if verdict == "equivalent":
        ignored = sum(g.paths for g in equivalence.filesystem.ignored)
        text = "equivalent: same config, same files"
        if ignored:
            text += f" (not counting {ignored} cache/doc/log paths)"
        if equivalence.smoke is not None:
            text += ", same smoke output"
        parts.append(text)
    else:
        diffs = []
        if equivalence.config:
            diffs.append("config " + ", ".join(d.field for d in equivalence.config))
        fs = equivalence.filesystem
        for n, word in ((len(fs.added), "added"), (len(fs.removed), "removed"), (len(fs.changed), "changed")):
            if n:
                diffs.append(f"{n} paths {word}")
        if equivalence.smoke is not None and not equivalence.smoke.same:
            diffs.append("smoke command behaves differently")
        parts.append("different: " + "; ".join(diffs))
    a, b = reports["original"].stats, reports["rewritten"].stats
    change = f" ({(b.size - a.size) / a.size:+.0%})" if a.size else ""
    parts.append(f"size {human_bytes(a.size)} -> {human_bytes(b.size)}{change}, "
                 f"layers {a.layer_count} -> {b.layer_count}, "
                 f"wasted {human_bytes(a.wasted_bytes)} -> {human_bytes(b.wasted_bytes)}")
    ra, rb = reports["original"].rebuild("source-edit"), reports["rewritten"].rebuild("source-edit")
    if ra and rb and ra.build and rb.build and ra.build.ok and rb.build.ok:
        parts.append(f"after a source edit {ra.run_steps} steps ran -> {rb.run_steps}")
    return "; ".join(parts)
