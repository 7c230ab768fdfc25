"""Keep only the fixes a build proves: build the original once, the candidate rewrite, and when a
check fails find the fixes responsible by group testing over the fix set.

A *fix* here is one finding's fix (`FixItem`); the caller gives them with `render(keys)`, which
returns the Dockerfile text with only those fixes applied.  The checks a candidate must pass
against the original:

* build: it builds;
* config: the image config is equal, except the fields the applied fixes declare;
* filesystem: the files are equal (type, mode, owner, content), except the path globs the
  applied fixes declare and what is never compared (caches, docs, logs, temp files);
* smoke: the user's command gives the same exit status and output in both images; with no
  command, a liveness probe runs each image's own ENTRYPOINT/CMD for a few seconds: the
  rewrite fails when its container exits non-zero where the original kept running or exited
  0, or when the original accepted a TCP connection on an EXPOSEd port and the rewrite does not.

Group testing: when the full set fails, it is split in halves; a half that passes (together
with what is already proven) is kept, a half that fails is split again, and a single fix that
fails is rejected with the check it failed.  The BuildKit cache makes each retry cheap: only the
steps a fix touches run again.  A file whose fixes all pass costs one build of each image.
"""
from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import docker.errors

from .compare import compare_config, compare_files, run_smoke
from .engine import TRANSPORT_ERRORS, EngineFault
from .layers import FileEntry
from .progress import Progress
from .report import SmokeRun
from .runner import _CannotBuild, _cleanup, _Run, _workdir, prepare_engine

Key = tuple[str, int, int]      # rule code, line and column of its finding in the input
# the chosen fixes -> the Dockerfile text and the side files (path -> text) they write
Render = Callable[[frozenset[Key]], tuple[str, dict[str, str]]]

EVIDENCE_LINES = 8


@dataclass(frozen=True)
class FixItem:
    """One finding's fix, and what it declares it may change in the image."""

    key: Key
    title: str
    config: frozenset[str] = frozenset()
    paths: tuple[str, ...] = ()

    @property
    def code(self) -> str:
        return self.key[0]

    @property
    def line(self) -> int:
        return self.key[1]

    def label(self) -> str:
        return f"{self.code} (line {self.line}): {self.title}"


@dataclass(frozen=True)
class CheckFailure:
    check: str                    # build, config, filesystem, smoke, liveness, port
    summary: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rejected:
    fix: FixItem
    failure: CheckFailure


@dataclass
class ProofReport:
    verdict: str           # proven, partly-proven, nothing-proven, original-failed, cannot-verify
    text: str              # the proven rewrite (the original when nothing is proven)
    files: dict[str, str] = field(default_factory=dict)     # the side files it writes (path -> text)
    kept: tuple[FixItem, ...] = ()
    rejected: tuple[Rejected, ...] = ()
    unproven: tuple[tuple[FixItem, str], ...] = ()      # not tried, and why
    builds: dict[str, int] = field(default_factory=lambda: {"original": 0, "rewrite": 0})
    tests: int = 0          # candidate rewrites checked
    seconds: float = 0.0
    reason: str = ""
    notes: tuple[str, ...] = ()

    @property
    def proven(self) -> bool:
        return bool(self.kept)

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "reason": self.reason,
                "kept": [_item_dict(f) for f in self.kept],
                "rejected": [{**_item_dict(r.fix), "check": r.failure.check, "why": r.failure.summary,
                              "evidence": list(r.failure.evidence)} for r in self.rejected],
                "unproven": [{**_item_dict(f), "why": why} for f, why in self.unproven],
                "builds": dict(self.builds), "tests": self.tests, "seconds": round(self.seconds, 2),
                "notes": list(self.notes)}


def _item_dict(f: FixItem) -> dict[str, Any]:
    return {"code": f.code, "line": f.line, "column": f.key[2], "title": f.title}


@dataclass(frozen=True)
class Probe:
    """An image's own ENTRYPOINT/CMD run for a while."""

    running: bool                 # still running when the probe ended
    exit_code: int | None
    output: str
    open_ports: frozenset[str] = frozenset()
    error: str | None = None


@dataclass
class _Image:
    config: dict[str, Any]
    files: dict[str, FileEntry]
    image_id: str
    smoke: SmokeRun | None = None
    probe: Probe | None = None


class _OutOfBudget(Exception):
    pass


def prove(original: str, items: Sequence[FixItem], render: Render, context_dir: Path,
          *, smoke: str | None = None, liveness: float = 5.0, budget: float | None = None,
          backend: str = "auto", timeout: float = 600, build_args: dict[str, str] | None = None,
          host: str | None = None, builder: str | None = None, target: str | None = None,
          secrets: tuple[str, ...] = (), progress: bool = False,
          unproven: Sequence[tuple[FixItem, str]] = (), dockerignore: str | None = None) -> ProofReport:
    """Find the largest set of `items` the checks prove (see the module docs), and its text.

    `budget` (seconds) stops the search: fixes not yet decided are left out as unproven.
    Raises EngineUnavailable / EngineFault when the engine is the problem, ValueError for a
    bad option; everything else is in the returned report.  What the run created on the
    engine is removed before this returns or raises."""
    started = time.monotonic()
    context_dir = Path(context_dir).resolve()
    if not context_dir.is_dir():
        raise ValueError(f"build context {context_dir} is not a directory")
    backend = "classic" if backend == "sdk" else backend
    build_args = dict(build_args or {})
    engine, kit, why_not = prepare_engine(backend, builder, host, build_args, secrets)
    engine.sweep_stale()
    prog = Progress(progress)
    workdir = _workdir(context_dir)
    run = _Run(engine, prog, workdir, context_dir, "Dockerfile", timeout, build_args, target=target,
               secrets=tuple(secrets))
    run.backend = "buildkit" if kit else "classic"
    run.use_own_ignore(dockerignore)
    search = _Search(run, original, list(items), render, smoke=smoke, liveness=liveness,
                     deadline=started + budget if budget else None,
                     cannot=why_not if backend == "buildkit" and not kit else None)
    search.unproven += list(unproven)
    try:
        try:
            report = search.execute()
        except TRANSPORT_ERRORS as exc:
            if engine.alive():
                raise
            raise EngineFault(f"the Docker engine stopped during the verification ({prog.current or 'starting'})"
                              ) from exc
    finally:
        prog.close()
        _cleanup(engine, workdir)
    report.seconds = time.monotonic() - started
    if backend == "auto" and not kit:
        report.notes = (f"BuildKit unavailable ({why_not}): built with the classic builder", *report.notes)
    return report


class _Search:
    def __init__(self, run: _Run, original: str, items: list[FixItem], render: Render,
                 *, smoke: str | None, liveness: float, deadline: float | None, cannot: str | None):
        self.run, self.original, self.items, self.render = run, original, items, render
        self.smoke, self.liveness, self.deadline, self.cannot = smoke, liveness, deadline, cannot
        self.good: list[FixItem] = []
        self.rejected: list[Rejected] = []
        self.unproven: list[tuple[FixItem, str]] = []
        self.builds = {"original": 0, "rewrite": 0}
        self.tests = 0
        self.tried: dict[tuple[str, tuple[tuple[str, str], ...]], CheckFailure | None] = {}
        self.base: _Image | None = None
        # paths two builds of the original disagree on (None: not built a second time yet)
        self.unreproducible: frozenset[str] | None = None

    # -- the search ------------------------------------------------------------

    def execute(self) -> ProofReport:
        if not self.items:
            return self._report("nothing-proven", "no fix to prove")
        failed = self._build_base()
        if failed is not None:
            return failed
        try:
            failure = self._test(self.items)
            if failure is None:
                self.good = list(self.items)
            else:
                self._bisect(self.items, failure)
        except _OutOfBudget:
            decided = {f.key for f in self.good} | {r.fix.key for r in self.rejected}
            self.unproven += [(f, "--verify-budget ran out before it was tried")
                              for f in self.items if f.key not in decided]
        if self.good:
            verdict = "proven" if len(self.good) == len(self.items) else "partly-proven"
            return self._report(verdict, "")
        reasons = sorted({r.failure.check for r in self.rejected})
        why = (f"every fix failed a check ({', '.join(reasons)})" if self.rejected
               else "no fix could be tried within --verify-budget")
        return self._report("nothing-proven", why)

    def _build_base(self) -> ProofReport | None:
        """Build and probe the original; the report when that fails."""
        try:
            planned = self.run._plan({"original": self.original}, self.cannot)["original"]
        except _CannotBuild as exc:
            return self._report("cannot-verify", str(exc))
        base = self._image("original", planned)
        if isinstance(base, CheckFailure):
            why = f"the original does not build: {base.summary}"
            return self._report("cannot-verify" if base.check == "unsupported" else "original-failed", why)
        self.base = base
        return None

    def _bisect(self, group: list[FixItem], failure: CheckFailure) -> None:
        """`self.good` plus `group` fails with `failure`; keep what passes of it, reject the rest."""
        if len(group) == 1:
            self.rejected.append(Rejected(group[0], failure))
            return
        half = len(group) // 2
        first, second = group[:half], group[half:]
        first_failure = self._test(self.good + first)
        if first_failure is None:
            self.good += first
            self._bisect(second, failure)    # good + second is the set that failed
            return
        self._bisect(first, first_failure)
        second_failure = self._test(self.good + second)
        if second_failure is None:
            self.good += second
        else:
            self._bisect(second, second_failure)

    def _test(self, chosen: list[FixItem]) -> CheckFailure | None:
        text, files = self.render(frozenset(f.key for f in chosen))
        if text == self.original and not files:
            return None
        seen = (text, tuple(sorted(files.items())))
        if seen in self.tried:
            return self.tried[seen]
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise _OutOfBudget
        self.tests += 1
        allowed_config = frozenset().union(*(f.config for f in chosen))
        allowed_paths = tuple(p for f in chosen for p in f.paths)
        result = self._check(text, files, allowed_config, allowed_paths)
        self.tried[seen] = result
        return result

    def _report(self, verdict: str, reason: str) -> ProofReport:
        text, files = self.render(frozenset(f.key for f in self.good)) if self.good else (self.original, {})
        notes = tuple(dict.fromkeys(self.run.notes)) if self.run is not None else ()
        return ProofReport(verdict=verdict, text=text, files=files, kept=tuple(self.good),
                           rejected=tuple(self.rejected), unproven=tuple(self.unproven), builds=dict(self.builds),
                           tests=self.tests, reason=reason, notes=notes)

    # -- one image -------------------------------------------------------------

    def _image(self, role: str, text: str) -> _Image | CheckFailure:
        run = self.run
        run.prog.phase(f"{role}: build")
        self.builds["original" if role == "original" else "rewrite"] += 1
        outcome = run._build(text, nocache=False, role=role)
        if outcome.unsupported:
            return CheckFailure("unsupported", outcome.unsupported)
        if not outcome.ok or outcome.image_id is None:
            lines = [ln for ln in (outcome.log_tail or "").splitlines() if ln.strip()]
            return CheckFailure("build", outcome.error or "the build failed", tuple(lines[-EVIDENCE_LINES:]))
        _stats, config, files = run._analyse(outcome.image_id)
        image = _Image(config=config.get("config") or {}, files=files, image_id=outcome.image_id)
        if self.smoke:
            run.prog.phase(f"{role}: smoke: {self.smoke}")
            image.smoke = run_smoke(run.engine, image.image_id, self.smoke, files, run.timeout)
        elif self.liveness > 0:
            run.prog.phase(f"{role}: liveness probe ({self.liveness:g}s)")
            image.probe = probe(run.engine, image.image_id, image.config, self.liveness, self._port_goal(role))
        return image

    def _port_goal(self, role: str) -> frozenset[str] | None:
        """The ports a rewrite's probe waits for (those the original accepted on); None: all."""
        if role == "original" or self.base is None or self.base.probe is None:
            return None
        return self.base.probe.open_ports

    def _check(self, text: str, files: dict[str, str], allowed_config: frozenset[str],
               allowed_paths: tuple[str, ...]) -> CheckFailure | None:
        unread = sorted(path for path in files if not path.endswith(".dockerignore"))
        if unread:
            return CheckFailure("build", f"the build cannot read {', '.join(unread)}: not proven")
        ignore = next(iter(files.values()), None)
        if ignore is not None and self.run.backend != "buildkit":
            return CheckFailure("build", "a rewritten .dockerignore is built with BuildKit only (the Dockerfile's "
                                         "own ignore file)")
        try:
            planned = self.run._plan({"rewrite": text}, self.cannot)["rewrite"]
        except _CannotBuild as exc:
            return CheckFailure("build", str(exc))
        self.run.dockerignore = ignore if ignore is not None else self.run.own_ignore
        try:
            image = self._image("rewrite", planned)
        finally:
            self.run.dockerignore = self.run.own_ignore
        if isinstance(image, CheckFailure):
            return image
        base = self.base
        assert base is not None
        # what the image does first: its failure says best why a fix is wrong
        for check in (_smoke_check(base, image), _liveness_check(base, image),
                      _config_check(base, image, allowed_config)):
            if check is not None:
                return check
        known = self.unreproducible
        failure = _files_check(base, image, allowed_paths, known or frozenset())
        if failure is None or known is not None:
            return failure
        return _files_check(base, image, allowed_paths, self._unreproducible())

    def _unreproducible(self) -> frozenset[str]:
        """The paths two builds of the original disagree on by themselves (a timestamp in a built
        archive, a random id): no rewrite can be judged on them. The original is built once more,
        without the cache, the first time a rewrite's files differ."""
        if self.unreproducible is not None:
            return self.unreproducible
        self.unreproducible = frozenset()
        run, base = self.run, self.base
        assert base is not None
        run.prog.phase("original: built again without the cache, to find what differs between its own builds")
        self.builds["original"] += 1
        try:
            planned = run._plan({"original": self.original}, self.cannot)["original"]   # (the features it needs)
        except _CannotBuild:
            return self.unreproducible
        outcome = run._build(planned, nocache=True, role="original")
        if not outcome.ok or outcome.image_id is None:
            return self.unreproducible
        _stats, _config, files = run._analyse(outcome.image_id)
        fs = compare_files(base.files, files)
        differ = sorted({*fs.added, *fs.removed, *(c.path for c in fs.changed)})
        self.unreproducible = frozenset(differ)
        if differ:
            shown = ", ".join(differ[:3]) + (f" and {len(differ) - 3} more" if len(differ) > 3 else "")
            run.notes.append(f"{len(differ)} paths differ between two builds of the original ({shown}): "
                             "they are not compared")
        return self.unreproducible


# ---------------------------------------------------------------------------- the checks


def _config_check(base: _Image, image: _Image, allowed: frozenset[str]) -> CheckFailure | None:
    diffs = [d for d in compare_config(base.config, image.config) if d.field not in allowed]
    if not diffs:
        return None
    return CheckFailure("config", "image config differs: " + ", ".join(d.field for d in diffs),
                        tuple(f"{d.field}: {d.original!r} -> {d.rewritten!r}" for d in diffs))


def allowed_path(path: str, globs: Sequence[str]) -> bool:
    return any(fnmatchcase(path, g) for g in globs)


def _files_check(base: _Image, image: _Image, allowed: Sequence[str],
                 unreproducible: frozenset[str] = frozenset()) -> CheckFailure | None:
    fs = compare_files(base.files, image.files)

    def undeclared(path: str) -> bool:
        return path not in unreproducible and not allowed_path(path, allowed)

    lines = [f"added {p}" for p in fs.added if undeclared(p)]
    lines += [f"removed {p}" for p in fs.removed if undeclared(p)]
    lines += [f"changed {c.path}: {c.detail}" for c in fs.changed if undeclared(c.path)]
    if not lines:
        return None
    return CheckFailure("filesystem", f"{len(lines)} paths differ that no applied fix declares",
                        tuple(lines[:EVIDENCE_LINES]))


def _tail(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()][-EVIDENCE_LINES:]


def _smoke_check(base: _Image, image: _Image) -> CheckFailure | None:
    a, b = base.smoke, image.smoke
    if a is None or b is None:
        return None
    if (a.exit_code, a.output, a.error) == (b.exit_code, b.output, b.error):
        return None
    what = (f"exit status {a.exit_code} -> {b.exit_code}" if a.exit_code != b.exit_code
            else "same exit status, different output")
    return CheckFailure("smoke", f"the smoke command behaves differently: {what}",
                        tuple(["original:", *_tail(a.error or a.output), "rewrite:", *_tail(b.error or b.output)]))


def _liveness_check(base: _Image, image: _Image) -> CheckFailure | None:
    a, b = base.probe, image.probe
    if a is None or b is None:
        return None
    original_fine = a.running or a.exit_code == 0
    if original_fine and not b.running and b.exit_code != 0:
        was = "kept running" if a.running else "exited 0"
        return CheckFailure("liveness", f"the rewrite's container exited with status {b.exit_code} where the "
                                        f"original's {was}", tuple(_tail(b.error or b.output)))
    lost = sorted(a.open_ports - b.open_ports)
    if lost:
        return CheckFailure("port", f"the original accepted connections on {', '.join(lost)}, the rewrite did not",
                            tuple(_tail(b.error or b.output)))
    return None


# ---------------------------------------------------------------------------- the liveness probe


def probe(engine: Any, image_id: str, config: dict[str, Any], seconds: float,
          wait_for: frozenset[str] | None = None) -> Probe:
    """Run the image's own ENTRYPOINT/CMD for `seconds` (less when it exits, or when every port
    in `wait_for` answered): its exit status, its output and the EXPOSEd TCP ports that accepted
    a connection from here."""
    ports = sorted(p for p in (config.get("ExposedPorts") or {}) if p.endswith("/tcp"))
    goal = set(ports if wait_for is None else (p for p in ports if p in wait_for))
    container = None
    try:
        container = engine.client.containers.create(image_id, labels=engine.labels, detach=True)
        engine.track_container(container.id)
        container.start()
        opened: set[str] = set()
        running, code = _watch(container, ports, goal, opened, time.monotonic() + seconds)
        output = container.logs(stdout=True, stderr=True)[-64 * 1024:].decode("utf-8", errors="replace")
        return Probe(running=running, exit_code=code, output=output, open_ports=frozenset(opened))
    except TRANSPORT_ERRORS as exc:
        return Probe(running=False, exit_code=None, output="", error=f"engine call failed: {exc}")
    except docker.errors.APIError as exc:     # the container cannot be created or started
        return Probe(running=False, exit_code=None, output="", error=str(getattr(exc, "explanation", None) or exc))
    finally:
        if container is not None:
            with contextlib.suppress(*TRANSPORT_ERRORS):   # Engine cleanup tries again by label
                container.remove(force=True)


def _watch(container: Any, ports: list[str], goal: set[str], opened: set[str], deadline: float
           ) -> tuple[bool, int | None]:
    """Poll until the deadline: (still running, exit status); fills `opened` with the ports that answered."""
    while True:
        container.reload()
        state = container.attrs.get("State") or {}
        if not state.get("Running") and state.get("Status") in ("exited", "dead"):
            return False, state.get("ExitCode")
        address = _address(container.attrs)
        for port in ports:
            if port not in opened and address and _accepts(address, int(port.split("/")[0])):
                opened.add(port)
        if (goal and goal <= opened) or time.monotonic() >= deadline:
            return True, None
        time.sleep(0.25)


def _address(attrs: dict[str, Any]) -> str | None:
    networks = (attrs.get("NetworkSettings") or {}).get("Networks") or {}
    for net in networks.values():
        if net.get("IPAddress"):
            return str(net["IPAddress"])
    return None


def _accepts(address: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((address, port), timeout=0.5):
        return True
    return False


def render_text(report: ProofReport, path: str) -> Iterator[str]:
    """The report as lines for people."""
    builds = report.builds
    yield (f"{path}: verify: {report.verdict}: {len(report.kept)} fixes proven, {len(report.rejected)} rejected "
           f"({builds['original']} build of the original, {builds['rewrite']} of rewrites, {report.tests} "
           f"candidates checked, {report.seconds:.0f}s)")
    if report.reason:
        yield f"  {report.reason}"
    for r in report.rejected:
        yield f"  rejected {r.fix.label()}"
        yield f"    {r.failure.check}: {r.failure.summary}"
        for line in r.failure.evidence:
            yield f"      | {line}"
    for f, why in report.unproven:
        yield f"  not applied {f.label()}: {why}"
    for note in report.notes:
        yield f"  note: {note}"
