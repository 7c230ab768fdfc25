"""verify(): build both Dockerfiles, measure them, compare them, clean up."""
from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import features as feat
from .build import engine_fault, frontend_unavailable
from .buildkit import Builder, Buildx, build_buildkit, find_buildx, inspect_builder
from .classic import build_classic
from .compare import compare_config, compare_files, run_smoke
from .edits import appended, choose_source_file, context_files, detect_manifests
from .engine import RUN_LABEL, TRANSPORT_ERRORS, Engine, EngineFault, connect, engine_host
from .layers import FileEntry, final_filesystem, image_stats, read_saved_image, save_image
from .progress import Progress
from .report import (
    BuildOutcome,
    Cleanup,
    Equivalence,
    ImageReport,
    ImageStats,
    Rebuild,
    SmokeResult,
    VerifyReport,
    human_bytes,
)

# "sdk" is the old name of "classic" (docker-py's build API drives the classic builder).
BACKENDS = ("auto", "buildkit", "classic", "sdk")


def verify(original: str, rewritten: str, context_dir: Path, *, dockerfile_name: str = "Dockerfile",
           smoke: str | None = None, backend: str = "auto", timeout: float = 600,
           manifests: list[str] | None = None, source_file: str | None = None,
           progress: bool = False, build_args: dict[str, str] | None = None,
           host: str | None = None, rebuild_repeats: int = 1, builder: str | None = None,
           target: str | None = None, secrets: tuple[str, ...] | list[str] = (),
           dockerignore: str | None = None, rewritten_dockerignore: str | None = None) -> VerifyReport:
    """Build `original` and `rewritten` in `context_dir` and report how they compare.

    `backend` "buildkit" builds with `docker buildx build` on `builder` (a
    buildx builder of any driver; None: the one buildx uses), "classic" with
    the classic builder through docker-py; "auto" takes BuildKit when the
    buildx plugin is there and says so when it falls back.  `target` and
    `secrets` (buildx `--secret` specs) go to both builds.  `timeout` bounds
    each build and the smoke run separately.  `build_args` go to both builds;
    their values (and the secrets') are replaced by *** in everything this
    returns, raises or shows.  `host` is the engine to use (default: what
    DOCKER_HOST names; a docker-driver builder brings its own).  Raises
    EngineUnavailable when no engine answers and EngineFault (one line) when
    it fails mid-run: it stops, or the disk holding its data root fills up.
    Every other problem (a file that does not build, a hanging build, a
    feature this builder cannot build) is reported in the returned
    VerifyReport.  `rebuild_repeats` runs each edit scenario that many times
    (a fresh edit each time) and reports the run of median duration, with
    every duration in `Rebuild.samples`.  Whatever happens, including Ctrl-C,
    what the run created on the engine (images, containers, build cache) is
    removed (when the engine died: by the next run against it) and edited
    context files are restored before this returns or raises.
    """
    backend = _checked_backend(backend, builder, secrets)
    context_dir = Path(context_dir).resolve()
    if not context_dir.is_dir():
        raise ValueError(f"build context {context_dir} is not a directory")
    source_file = _context_rel(context_dir, source_file) if source_file else None
    manifests = [_context_rel(context_dir, m) for m in manifests] if manifests else None

    build_args = dict(build_args or {})
    started = time.monotonic()
    engine, kit, why_not = prepare_engine(backend, builder, host, build_args, secrets)
    if rewritten_dockerignore is not None and not kit:
        raise ValueError("the rewrite writes a .dockerignore: verifying it needs BuildKit (the classic builder "
                         "reads only the context's, which dockopt leaves as it is)")
    swept = engine.sweep_stale()
    prog = Progress(progress)
    workdir = _workdir(context_dir)
    run = _Run(engine, prog, workdir, context_dir, dockerfile_name, timeout, build_args,
               repeats=max(1, int(rebuild_repeats)), target=target, secrets=tuple(secrets))
    run.backend = "buildkit" if kit else "classic"
    run.use_own_ignore(dockerignore, rewritten=rewritten_dockerignore)
    if backend == "auto" and not kit:
        run.notes.append(f"BuildKit unavailable ({why_not}): built with the classic builder")
    if swept:
        run.notes.append(f"removed {swept} objects that earlier verifications left on this engine when they died")
    try:
        try:
            parts = run.execute(original, rewritten, smoke=smoke, manifests=manifests, source_file=source_file,
                                cannot=why_not if backend == "buildkit" and not kit else None)
        except TRANSPORT_ERRORS as exc:
            # an engine call outside a build (saving, inspecting, the smoke run) failed
            if engine.alive():
                raise
            doing = prog.current or "starting"
            raise EngineFault(f"the Docker engine stopped during the verification ({doing})") from exc
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
                          cleanup=cleanup, seconds=time.monotonic() - started, builder=_builder_text(engine),
                          **parts)
    return _redacted(report, engine.redact) if engine.secrets else report


def _builder_text(engine: Engine) -> str:
    """The BuildKit builder and buildx version the builds ran on; "" for the classic builder."""
    if engine.builder and engine.buildx:
        return f"{engine.builder.describe()}, buildx {engine.buildx.version}"
    return ""


def _checked_backend(backend: str, builder: str | None, secrets: tuple[str, ...] | list[str]) -> str:
    """The backend asked for, under its current name; ValueError when it is unknown or cannot
    do what the other options ask."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    backend = "classic" if backend == "sdk" else backend
    if backend == "classic" and (builder or secrets):
        raise ValueError(f"{'--builder' if builder else '--secret'} needs the BuildKit backend, not 'classic'")
    return backend


def prepare_engine(backend: str, builder: str | None, host: str | None, build_args: dict[str, str],
                   secrets: tuple[str, ...] | list[str]) -> tuple[Engine, tuple[Buildx, Builder] | None, str]:
    """The engine to build on, with the buildx CLI and builder when BuildKit is used (else None,
    and why not); the values to hide in what is shown are set on it."""
    host = host or engine_host()
    kit, why_not = _buildkit(backend, builder, host)
    engine = connect(host=kit[1].host if kit and kit[1].host else host)
    engine.cli_host = host
    if kit:
        engine.buildx, engine.builder = kit
    engine.secrets = tuple(sorted({v for v in build_args.values() if v} | _secret_values(secrets),
                                  key=len, reverse=True))
    return engine, kit, why_not


def _buildkit(backend: str, builder: str | None, host: str) -> tuple[tuple[Buildx, Builder] | None, str]:
    """(buildx CLI, builder) to build with, or (None, why BuildKit is not used).

    Raises ValueError when the builder the user named cannot be used: that is
    a wrong option, not something to fall back from.
    """
    if backend == "classic":
        return None, "the classic builder was asked for"
    buildx = find_buildx()
    if isinstance(buildx, str):
        if builder:
            raise ValueError(f"--builder {builder}: {buildx}")
        return None, buildx
    found = inspect_builder(buildx, builder, host)
    if isinstance(found, str):
        if builder:
            raise ValueError(found)
        return None, found
    return (buildx, found), ""


def _secret_values(specs: tuple[str, ...] | list[str]) -> set[str]:
    """What the secrets named by buildx `--secret` specs hold (to be hidden wherever it shows)."""
    out: set[str] = set()
    for spec in specs:
        fields = dict(part.partition("=")[::2] for part in spec.split(","))
        sid = fields.get("id", "")
        source = fields.get("src") or fields.get("source")
        env = fields.get("env") or (sid if not source and sid in os.environ else None)
        value = None
        if env:
            value = os.environ.get(env)
        elif source or sid:
            try:
                path = Path(source or sid)
                if path.is_file() and path.stat().st_size <= 64 * 1024:
                    value = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                value = None
        if value and value.strip():
            out |= {value, value.strip()}
    return out


def _redacted(obj: Any, redact: Callable[[str], str]) -> Any:
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


class _CannotBuild(Exception):
    """This builder cannot build the files (a missing feature or frontend); the message says why."""


class _Run:
    def __init__(self, engine: Engine, prog: Progress, workdir: Path, context_dir: Path,
                 dockerfile_name: str, timeout: float, build_args: dict[str, str] | None = None,
                 repeats: int = 1, target: str | None = None, secrets: tuple[str, ...] = ()):
        self.engine, self.prog, self.workdir = engine, prog, workdir
        self.repeats = repeats
        self.build_args = dict(build_args or {})
        self.target, self.secrets = target, secrets
        self.context_dir, self.dockerfile_name, self.timeout = context_dir, dockerfile_name, timeout
        self.notes: list[str] = []
        self.backend = "buildkit"
        self.features: dict[str, frozenset[str]] = {}
        self.frontends: dict[str, str] = {}      # role -> the `# syntax=` frontend its build still names
        self.dockerignore: str | None = None     # BuildKit: the ignore file to build with (None: the context's)
        self.own_ignore: str | None = None       # the user's `<Dockerfile>.dockerignore`, when BuildKit reads it
        self.role_ignore: dict[str, str] = {}    # role -> the ignore file that role builds with instead

    def use_own_ignore(self, text: str | None, rewritten: str | None = None) -> None:
        """Build with the Dockerfile's own ignore file, as BuildKit does (the classic builder
        reads only the context's .dockerignore, and says so); the rewrite with the one it
        writes, if any."""
        if rewritten is not None:
            self.role_ignore["rewritten"] = rewritten
        if text is None:
            return
        if self.backend != "buildkit":
            self.notes.append("the classic builder ignores the Dockerfile's own .dockerignore: "
                              "built with the context's")
            return
        self.own_ignore = self.dockerignore = text
        self.notes.append("built with the Dockerfile's own ignore file")

    # -- planning ------------------------------------------------------------

    def _builtin_missing(self, features: frozenset[str]) -> frozenset[str]:
        builder = self.engine.builder
        buildkit = builder.buildkit if builder is not None and builder.driver != "docker" else ""
        return feat.unsupported_by_builtin_frontend(features - {"syntax-directive"}, self.engine.version, buildkit)

    def _where(self) -> str:
        builder = self.engine.builder
        if builder is not None and builder.driver != "docker":
            return f"the builder {builder.describe()}"
        return f"Docker Engine {self.engine.version}"

    def _plan(self, texts: dict[str, str], cannot: str | None) -> dict[str, str]:
        """The text each side is built from; raises _CannotBuild when this builder cannot build them."""
        self.features = {role: feat.needed_features(text) for role, text in texts.items()}
        used = frozenset().union(*self.features.values())
        if cannot is not None:
            raise _CannotBuild(f"cannot verify with BuildKit: {cannot}")
        if self.backend == "classic" and feat.needs_buildkit(used):
            raise _CannotBuild(
                f"cannot verify with the classic builder: {feat.describe(used & feat.BUILDKIT_ONLY)} need BuildKit "
                "(the docker buildx plugin; Debian: docker-buildx)")
        out = {}
        for role, text in texts.items():
            missing = self._builtin_missing(self.features[role])
            directive = feat.syntax_directive(text)
            if directive is None:
                if missing:
                    raise _CannotBuild(
                        f"cannot verify: the {role} Dockerfile uses {feat.describe(missing)}, which the Dockerfile "
                        f"frontend built into {self._where()} does not support (it needs a newer "
                        "docker/dockerfile frontend)")
                out[role] = text
                continue
            ref = directive[1]
            if feat.is_stock_frontend(ref) and not missing:
                # The stock frontend, and the builder's own copy of it reads
                # everything this file uses: no need to fetch one.
                out[role] = feat.without_syntax_directive(text)
                self.notes.append(f"{role}: built with the Dockerfile frontend built into {self._where()} instead "
                                  f"of `# syntax={ref}`, which it supports for every feature the file uses")
                continue
            out[role] = text
            self.frontends[role] = ref
        return out

    # -- building ------------------------------------------------------------

    def _build(self, text: str, *, nocache: bool, role: str) -> BuildOutcome:
        """One build; raises EngineFault when it failed because of the engine."""
        if not feat.has_stage(text):
            # (nothing to build; and some BuildKit releases crash on a file without a stage)
            return BuildOutcome(backend=self.backend, ok=False, seconds=0.0,
                                error="the Dockerfile has no FROM instruction: nothing to build")
        if self.backend == "buildkit":
            outcome = build_buildkit(self.engine, text, self.context_dir, self.workdir, nocache=nocache,
                                     timeout=self.timeout, progress=self.prog, features=self.features[role],
                                     build_args=self.build_args, target=self.target, secrets=self.secrets,
                                     dockerignore=self.role_ignore.get(role, self.dockerignore))
        else:
            outcome = build_classic(self.engine, text, self.context_dir, nocache=nocache,
                                    timeout=self.timeout, progress=self.prog, build_args=self.build_args,
                                    target=self.target)
        fault = engine_fault(self.engine, outcome, role)
        if fault:
            raise EngineFault(fault)
        return outcome

    def _cold(self, role: str, text: str) -> BuildOutcome:
        """The no-cache build; a `# syntax=` frontend that cannot be fetched makes the file unverifiable here."""
        self.prog.phase(f"{role}: cold build")
        outcome = self._build(text, nocache=True, role=role)
        ref = self.frontends.get(role)
        if outcome.ok or ref is None or not frontend_unavailable(outcome.error or outcome.log_tail, ref):
            return outcome
        missing = self._builtin_missing(self.features[role])
        why = (f"the Dockerfile frontend built into {self._where()} does not support {feat.describe(missing)}"
               if missing else "only the stock docker/dockerfile frontend is replaced by the built-in one")
        return replace(outcome,
                       unsupported=f"cannot verify: needs frontend {ref}, which cannot be fetched here ({why})")

    def _analyse(self, image_id: str) -> tuple[ImageStats, dict[str, Any], dict[str, FileEntry]]:
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

    def _one(self, role: str, text: str, source: str | None, manifests: list[str]
             ) -> tuple[ImageReport, tuple[dict[str, Any], dict[str, FileEntry]] | None]:
        cold = self._cold(role, text)
        if not cold.ok or cold.image_id is None:
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

    def execute(self, original: str, rewritten: str, *, smoke: str | None, manifests: list[str] | None,
                source_file: str | None, cannot: str | None = None) -> dict[str, Any]:
        try:
            texts = self._plan({"original": original, "rewritten": rewritten}, cannot)
        except _CannotBuild as exc:
            return {"verdict": "cannot-verify", "summary": str(exc), "backend": self.backend,
                    "original": None, "rewritten": None, "unsupported": str(exc),
                    "notes": tuple(self.notes)}

        files = context_files(self.context_dir, self.dockerignore)
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
            id_a, id_b = reports["original"].build.image_id, reports["rewritten"].build.image_id
            if smoke and id_a and id_b:
                self.prog.phase(f"smoke: {smoke}")
                smoke_result = SmokeResult(
                    command=smoke,
                    original=run_smoke(self.engine, id_a, smoke, files_a, self.timeout),
                    rewritten=run_smoke(self.engine, id_b, smoke, files_b, self.timeout))
            equivalence = Equivalence(
                config=compare_config(cfg_a.get("config") or {}, cfg_b.get("config") or {}),
                filesystem=compare_files(files_a, files_b), smoke=smoke_result)

        verdict = _verdict(reports, equivalence, unsupported)
        return {"verdict": verdict, "summary": _summary(verdict, reports, equivalence, unsupported),
                "backend": self.backend, "original": reports["original"],
                "rewritten": reports["rewritten"], "equivalence": equivalence,
                "unsupported": unsupported, "notes": tuple(self.notes)}


def _verdict(reports: dict[str, ImageReport], equivalence: Equivalence | None, unsupported: str | None) -> str:
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


def _sameness(equivalence: Equivalence) -> str:
    """The summary's words for two equivalent images."""
    ignored = sum(g.paths for g in equivalence.filesystem.ignored)
    text = "equivalent: same config, same files"
    if ignored:
        text += f" (not counting {ignored} cache/doc/log paths)"
    if equivalence.smoke is not None:
        text += ", same smoke output"
    return text


def _differences(equivalence: Equivalence) -> str:
    """The summary's words for how two images differ."""
    diffs = []
    if equivalence.config:
        diffs.append("config " + ", ".join(d.field for d in equivalence.config))
    fs = equivalence.filesystem
    for n, word in ((len(fs.added), "added"), (len(fs.removed), "removed"), (len(fs.changed), "changed")):
        if n:
            diffs.append(f"{n} paths {word}")
    if equivalence.smoke is not None and not equivalence.smoke.same:
        diffs.append("smoke command behaves differently")
    return "different: " + "; ".join(diffs)


def _summary(verdict: str, reports: dict[str, ImageReport], equivalence: Equivalence | None,
             unsupported: str | None) -> str:
    if verdict == "cannot-verify":
        return unsupported or "cannot verify"
    if verdict != "equivalent" and verdict != "different":
        return "; ".join(_failure(r) for r in reports.values() if not r.build.ok)
    assert equivalence is not None      # both built
    parts = [_sameness(equivalence) if verdict == "equivalent" else _differences(equivalence)]
    a, b = reports["original"].stats, reports["rewritten"].stats
    assert a is not None and b is not None
    change = f" ({(b.size - a.size) / a.size:+.0%})" if a.size else ""
    parts.append(f"size {human_bytes(a.size)} -> {human_bytes(b.size)}{change}, "
                 f"layers {a.layer_count} -> {b.layer_count}, "
                 f"wasted {human_bytes(a.wasted_bytes)} -> {human_bytes(b.wasted_bytes)}")
    ra, rb = reports["original"].rebuild("source-edit"), reports["rewritten"].rebuild("source-edit")
    if ra and rb and ra.build and rb.build and ra.build.ok and rb.build.ok:
        parts.append(f"after a source edit {ra.run_steps} steps ran -> {rb.run_steps}")
    return "; ".join(parts)
