"""Result types of a verification, their JSON form and their text rendering.

Every result is a frozen dataclass holding tuples, so a report can be shared
(CLI, JSON writer, tests) without anyone changing it under the others.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# --------------------------------------------------------------------------
# building


@dataclass(frozen=True)
class Step:
    """One Dockerfile step of a build, as the builder's log reported it."""

    name: str          # e.g. "RUN pip install -r requirements.txt"
    cached: bool
    seconds: float | None = field(default=None, compare=False)   # how long it took, as the builder reported


@dataclass(frozen=True)
class BuildOutcome:
    """What one `docker build` did.  Both backends return this."""

    backend: str                      # "buildkit" or "classic"
    ok: bool
    seconds: float
    image_id: str | None = None
    steps: tuple[Step, ...] = ()
    log_tail: str = ""
    error: str | None = None
    timed_out: bool = False
    # set when the engine cannot build this file at all (not the file's fault)
    unsupported: str | None = None

    @property
    def cached_steps(self) -> int:
        return sum(1 for s in self.steps if s.cached)

    @property
    def run_steps(self) -> int:
        return sum(1 for s in self.steps if not s.cached)

    @property
    def ran(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.steps if not s.cached)


@dataclass(frozen=True)
class Rebuild:
    """A rebuild on top of the cold build's cache, after `scenario`."""

    scenario: str                     # "no-change" | "source-edit" | "manifest-edit"
    edited: tuple[str, ...] = ()      # context-relative paths touched (then restored)
    build: BuildOutcome | None = None
    skipped: str | None = None        # why the scenario was not run
    samples: tuple[float, ...] = ()   # every run's seconds when it was repeated (build is the median)

    @property
    def cached_steps(self) -> int | None:
        return self.build.cached_steps if self.build else None

    @property
    def run_steps(self) -> int | None:
        return self.build.run_steps if self.build else None

    @property
    def seconds(self) -> float | None:
        return self.build.seconds if self.build else None


# --------------------------------------------------------------------------
# image analysis


@dataclass(frozen=True)
class LayerInfo:
    """One history entry of the image (oldest first)."""

    index: int
    created_by: str
    size: int          # bytes of the layer's files (0 for metadata-only steps)
    empty: bool        # True when the step made no filesystem layer


@dataclass(frozen=True)
class WastedPath:
    path: str
    bytes: int         # dive's cumulative size over all layers holding the path
    copies: int        # layers holding (or removing) the path


@dataclass(frozen=True)
class ImageStats:
    image_id: str
    size: int                         # as the engine reports it (all layers)
    layer_count: int                  # filesystem layers, base image included
    layers: tuple[LayerInfo, ...]
    content_bytes: int                # dive's image size: sum of the layers' file sizes
    wasted_bytes: int                 # dive's "potential wasted space"
    efficiency: float                 # dive's efficiency score, 0..1
    wasted_user_ratio: float          # dive: wasted / bytes above the base (first) layer
    shadowed_bytes: int               # bytes stored in layers but hidden in the final fs
    file_count: int                   # paths in the final filesystem
    top_wasted: tuple[WastedPath, ...] = ()


@dataclass(frozen=True)
class ImageReport:
    role: str                         # "original" | "rewritten"
    build: BuildOutcome
    stats: ImageStats | None = None
    rebuilds: tuple[Rebuild, ...] = ()

    def rebuild(self, scenario: str) -> Rebuild | None:
        return next((r for r in self.rebuilds if r.scenario == scenario), None)


# --------------------------------------------------------------------------
# equivalence


@dataclass(frozen=True)
class ConfigDiff:
    field: str
    original: Any
    rewritten: Any


@dataclass(frozen=True)
class PathChange:
    path: str
    detail: str        # e.g. "content", "mode 0644 -> 0755", "symlink -> a / b"


@dataclass(frozen=True)
class IgnoredGroup:
    """Paths left out of the comparison because they are caches, docs, logs..."""

    category: str
    paths: int
    original_bytes: int
    rewritten_bytes: int
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class FilesystemDiff:
    added: tuple[str, ...] = ()       # only in the rewritten image
    removed: tuple[str, ...] = ()     # only in the original image
    changed: tuple[PathChange, ...] = ()
    ignored: tuple[IgnoredGroup, ...] = ()
    compared_paths: int = 0

    @property
    def same(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass(frozen=True)
class SmokeRun:
    argv: tuple[str, ...]             # what ran, entrypoint included
    exit_code: int | None
    output: str                       # stdout and stderr, interleaved
    timed_out: bool = False
    error: str | None = None


@dataclass(frozen=True)
class SmokeResult:
    command: str
    original: SmokeRun
    rewritten: SmokeRun

    @property
    def same(self) -> bool:
        a, b = self.original, self.rewritten
        return (a.error is None and b.error is None and not a.timed_out and not b.timed_out
                and a.exit_code == b.exit_code and a.output == b.output)


@dataclass(frozen=True)
class Equivalence:
    config: tuple[ConfigDiff, ...]
    filesystem: FilesystemDiff
    smoke: SmokeResult | None = None

    @property
    def equivalent(self) -> bool:
        return not self.config and self.filesystem.same and (self.smoke is None or self.smoke.same)


# --------------------------------------------------------------------------
# the whole run


@dataclass(frozen=True)
class Cleanup:
    images_removed: int = 0
    containers_removed: int = 0
    cache_records_pruned: int = 0
    leftovers: tuple[str, ...] = ()   # objects of this run still on the engine


@dataclass(frozen=True)
class VerifyReport:
    run_id: str
    verdict: str       # equivalent | different | original-failed | rewritten-failed | both-failed | cannot-verify
    summary: str
    backend: str       # buildkit | classic
    engine_version: str
    engine_host: str
    context_dir: str
    dockerfile_name: str
    original: ImageReport | None
    rewritten: ImageReport | None
    equivalence: Equivalence | None = None
    unsupported: str | None = None
    notes: tuple[str, ...] = ()
    cleanup: Cleanup = field(default_factory=Cleanup)
    seconds: float = 0.0
    builder: str = ""  # the BuildKit builder and client, e.g. "default (docker driver), buildx 0.13.1"

    @property
    def equivalent(self) -> bool:
        return self.verdict == "equivalent"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _jsonable(self)
        return out


# Computed properties that belong in the JSON form next to the fields.
_EXTRA = {
    BuildOutcome: ("cached_steps", "run_steps", "ran"),
    Rebuild: ("cached_steps", "run_steps", "seconds"),
    FilesystemDiff: ("same",),
    SmokeResult: ("same",),
    Equivalence: ("equivalent",),
}


def _jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {f.name: _jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        for name in _EXTRA.get(type(obj), ()):
            out[name] = _jsonable(getattr(obj, name))
        return out
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else round(obj, 6)
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    return str(obj)


# --------------------------------------------------------------------------
# text


def human_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(value) < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"  # pragma: no cover


def _seconds(s: float | None) -> str:
    return "-" if s is None else f"{s:.1f}s"


def _rebuild_cell(side: ImageReport, scenario: str) -> str:
    rb = side.rebuild(scenario)
    if rb is None:
        return "-"
    if rb.build is None:
        return "skipped"
    if not rb.build.ok:
        return "failed"
    return f"{rb.cached_steps} cached / {rb.run_steps} run, {_seconds(rb.seconds)}"


def _stat(side: ImageReport, show: Callable[[ImageStats], str]) -> str:
    return show(side.stats) if side.stats else "-"


def _render_builds(report: VerifyReport, sides: list[ImageReport], console: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    via = f"builder {report.builder}" if report.builder else report.backend
    table = Table(title=f"builds ({via}, engine {report.engine_version})")
    table.add_column("")
    for side in sides:
        table.add_column(side.role, justify="right")
    rows: list[tuple[str, Callable[[ImageReport], str]]] = [
        ("builds", lambda s: "yes" if s.build.ok else ("timeout" if s.build.timed_out else "NO")),
        ("cold build", lambda s: _seconds(s.build.seconds)),
        ("image size", lambda s: _stat(s, lambda st: human_bytes(st.size))),
        ("layers", lambda s: _stat(s, lambda st: str(st.layer_count))),
        ("wasted (dive)", lambda s: _stat(s, lambda st: human_bytes(st.wasted_bytes))),
        ("efficiency (dive)", lambda s: _stat(s, lambda st: f"{st.efficiency:.2%}")),
        ("hidden by later layers", lambda s: _stat(s, lambda st: human_bytes(st.shadowed_bytes))),
    ]
    for scenario in ("no-change", "source-edit", "manifest-edit"):
        rows.append((f"rebuild: {scenario}", functools.partial(_rebuild_cell, scenario=scenario)))
    for label, cell in rows:
        table.add_row(label, *[cell(s) for s in sides])
    console.print(table)
    for side in sides:
        if not side.build.ok:
            console.print(Text(f"{side.role} build failed: {side.build.error or ''}", style="red"))
            if side.build.log_tail:
                console.print(Text(side.build.log_tail, style="dim"))


def _render_equivalence(eq: Equivalence, console: Any) -> None:
    from rich.text import Text

    for d in eq.config:
        console.print(f"config {d.field}: {d.original!r} -> {d.rewritten!r}")
    fs = eq.filesystem
    for p in fs.removed[:20]:
        console.print(Text(f"- {p}", style="red"))
    for p in fs.added[:20]:
        console.print(Text(f"+ {p}", style="green"))
    for c in fs.changed[:20]:
        console.print(Text(f"~ {c.path} ({c.detail})", style="yellow"))
    more = len(fs.removed) + len(fs.added) + len(fs.changed) - sum(
        min(20, n) for n in (len(fs.removed), len(fs.added), len(fs.changed)))
    if more > 0:
        console.print(f"... and {more} more path differences")
    if fs.ignored:
        parts = [f"{g.category} {g.paths} paths ({human_bytes(g.original_bytes)} -> "
                 f"{human_bytes(g.rewritten_bytes)})" for g in fs.ignored]
        console.print(Text("not compared: " + "; ".join(parts), style="dim"))
    if eq.smoke is not None:
        s = eq.smoke
        verdict = "same" if s.same else "DIFFERENT"
        console.print(f"smoke `{s.command}`: {verdict} (exit {s.original.exit_code} / {s.rewritten.exit_code})")
        if not s.same:
            console.print(Text(f"original output:\n{s.original.output}", style="dim"))
            console.print(Text(f"rewritten output:\n{s.rewritten.output}", style="dim"))


def render_report(report: VerifyReport, console: Any) -> None:
    """Print `report` on a rich Console."""
    from rich.text import Text

    style = {"equivalent": "bold green", "different": "bold yellow"}.get(report.verdict, "bold red")
    console.print(Text(f"verify: {report.verdict}", style=style))
    console.print(report.summary)
    sides = [r for r in (report.original, report.rewritten) if r is not None]
    if sides:
        _render_builds(report, sides, console)
    if report.equivalence is not None:
        _render_equivalence(report.equivalence, console)
    for note in report.notes:
        console.print(Text(f"note: {note}", style="dim"))
    if report.cleanup.leftovers:
        console.print(Text("left on the engine: " + ", ".join(report.cleanup.leftovers), style="red"))
