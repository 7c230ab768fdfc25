"""Building with BuildKit through `docker buildx build`, the only complete BuildKit client.

The CLI runs with `--progress=rawjson`: BuildKit's own status stream (one JSON
document per update: vertices with their name, start, end, cached flag and
error, and the log lines of each) on stderr, mixed with the CLI's plain text
(the final `ERROR: failed to solve: ...`).  `SolveLog` turns that into steps
(cached or run, with durations) and a readable log.  The image id comes from
`--metadata-file`; the image is loaded into the engine (`--load`), where
docker-py inspects, saves, runs and removes it like any other.

A builder (`--builder NAME`) may have any driver.  With the `docker` driver the
build runs in, and the image lands in, the engine the builder belongs to, so
that is the engine docker-py talks to; with any other driver (docker-container,
remote, kubernetes) the image is loaded into the engine DOCKER_HOST names.
BuildKit's cache lives with the builder: for the docker driver it is read and
pruned through the engine's API, otherwise through `docker buildx du/prune`.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import json
import os
import queue
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .build import classify_failure, tail
from .report import BuildOutcome, Step

if TYPE_CHECKING:
    from .engine import Engine
    from .progress import Progress

CLI_TIMEOUT = 30.0


# --------------------------------------------------------------------------
# the CLI and the builder


@dataclass(frozen=True)
class Buildx:
    """A docker CLI whose buildx plugin works."""

    path: str
    version: str             # the plugin's, e.g. "0.13.1"


@dataclass(frozen=True)
class Builder:
    """A buildx builder, as `docker buildx inspect` describes it."""

    name: str                # as given, or the one buildx picks ("default" and the like)
    driver: str              # docker, docker-container, remote, kubernetes
    endpoint: str            # a docker context name or an address
    buildkit: str = ""       # BuildKit version the builder reports ("" when unknown)
    explicit: bool = False   # named by the user (passed on as --builder)
    host: str | None = None  # docker driver: the engine it builds in (and loads into)

    def describe(self) -> str:
        version = f", BuildKit {self.buildkit}" if self.buildkit else ""
        return f"{self.name} ({self.driver} driver{version})"


def _run(argv: list[str], env: dict[str, str], timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def cli_env(host: str | None) -> dict[str, str]:
    env = dict(os.environ, DOCKER_CLI_HINTS="false")
    if host:
        env["DOCKER_HOST"] = host
    return env


def _candidates() -> list[str]:
    import shutil

    out = [os.environ.get("DOCKOPT_DOCKER_CLI") or "", shutil.which("docker") or "",
           "/usr/local/bin/docker", "/usr/bin/docker"]
    seen: set[str] = set()
    unique = []
    for cand in out:
        if cand and os.path.exists(cand) and os.path.realpath(cand) not in seen:
            seen.add(os.path.realpath(cand))
            unique.append(cand)
    return unique


def find_buildx() -> Buildx | str:
    """The docker CLI with a working buildx plugin, or why there is none (one line).

    DOCKOPT_DOCKER_CLI names the CLI explicitly; otherwise `docker` on PATH and
    the usual install locations are tried in turn.  (Asked once per setting of
    what decides the answer: the CLI named, PATH, and the config directory the
    CLI finds its plugins in.)
    """
    env = os.environ
    return _find_buildx(env.get("DOCKOPT_DOCKER_CLI"), env.get("PATH"), env.get("DOCKER_CONFIG"))


@functools.lru_cache(maxsize=16)
def _find_buildx(cli: str | None, path: str | None, config: str | None) -> Buildx | str:
    tried = []
    for cand in _candidates():
        try:
            proc = _run([cand, "buildx", "version"], cli_env(None))
        except (OSError, subprocess.TimeoutExpired) as exc:
            tried.append(f"{cand} ({exc})")
            continue
        m = re.search(r"\bv?(\d+\.\d+\.\d+)", proc.stdout)
        if proc.returncode == 0 and m:
            return Buildx(path=cand, version=m.group(1))
        tried.append(f"{cand} (no buildx plugin)")
    if not tried:
        return "no docker CLI found"
    return "no docker buildx plugin found: tried " + "; ".join(tried)


def _fields(text: str) -> Iterator[tuple[str, str]]:
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key and not key.startswith(" "):
            yield key.strip(), value.strip()


def inspect_builder(buildx: Buildx, name: str | None, host: str) -> Builder | str:
    """Driver, endpoint and BuildKit version of builder `name` (None: the one buildx uses), or why not."""
    return _inspect_builder(buildx, name, host, os.environ.get("DOCKER_CONFIG"))


@functools.lru_cache(maxsize=64)
def _inspect_builder(buildx: Buildx, name: str | None, host: str, config: str | None) -> Builder | str:
    env = cli_env(host)
    argv = [buildx.path, "buildx", "inspect", "--bootstrap"] + ([name] if name else [])
    try:
        proc = _run(argv, env, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`docker buildx inspect {name or ''}` failed: {exc}"
    if proc.returncode != 0:
        why = (proc.stderr or proc.stdout).strip().splitlines()
        return f"no usable buildx builder {name or '(default)'}: {why[-1] if why else 'unknown error'}"
    info: dict[str, str] = {}
    for key, value in _fields(proc.stdout):
        info.setdefault(key, value)      # the builder's own fields, then its first node's
    driver = info.get("Driver", "")
    endpoint = info.get("Endpoint", "")
    buildkit = info.get("BuildKit version") or info.get("BuildKit") or ""
    if buildkit.startswith("v0.0.0"):
        buildkit = ""                    # a distribution build that does not know its version
    builder = Builder(name=info.get("Name") or name or "default", driver=driver, endpoint=endpoint,
                      buildkit=buildkit.lstrip("v"), explicit=bool(name))
    if driver == "docker":
        address, problem = _context_host(buildx, endpoint, host)
        if address is None:
            return problem
        builder = dataclasses.replace(builder, host=address)
    return builder


def _context_host(buildx: Buildx, endpoint: str, host: str) -> tuple[str | None, str]:
    """(engine address, "") of a docker-driver builder's endpoint (a context name or an address), or (None, why)."""
    if "://" in endpoint:
        return endpoint, ""
    if endpoint in ("", "default"):
        return host, ""
    try:
        proc = _run([buildx.path, "context", "inspect", endpoint, "--format", "{{.Endpoints.docker.Host}}"],
                    cli_env(host))
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"cannot read docker context {endpoint}: {exc}"
    address = proc.stdout.strip()
    if proc.returncode != 0 or "://" not in address:
        return None, f"cannot read docker context {endpoint}: {(proc.stderr or proc.stdout).strip()}"
    return address, ""


# --------------------------------------------------------------------------
# the progress stream (pure, unit-tested)


_STEP_VERTEX = re.compile(r"^\[(?:(?P<stage>[^\]]*?) )?(?P<n>\d+)/(?P<m>\d+)\] (?P<instr>.+)$", re.S)
_FAILED = re.compile(r"(?i)\b(error|failed to solve)\b")


def _go_time(value: str | None) -> float | None:
    """Seconds since the epoch of a Go RFC 3339 time (nanoseconds allowed)."""
    if not value:
        return None
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$", value)
    if not m:
        return None
    frac = (m.group(2) or ".0")[:7]
    zone = m.group(3) or "Z"
    try:
        return datetime.fromisoformat(m.group(1) + frac + ("+00:00" if zone == "Z" else zone)).timestamp()
    except ValueError:
        return None


@dataclass
class _Vertex:
    number: int
    name: str = ""
    started: float | None = None
    completed: float | None = None
    cached: bool = False
    error: str = ""
    shown: set[str] = field(default_factory=set)     # which of name/CACHED/DONE/ERROR were printed


class SolveLog:
    """Follows `docker buildx build --progress=rawjson` output, line by line.

    Every line of the output goes through `feed_line()`; the lines of one JSON
    document are collected until it parses, anything else is the CLI's own
    text.  Each document updates the vertices it names (a vertex is one step
    or internal operation of the solve).
    """

    def __init__(self, redact: Callable[[str], str] = lambda text: text, stages: list[str] | None = None):
        self._redact = redact
        # stage names in file order ("" for an unnamed one): BuildKit reports
        # vertices in no particular order, the steps are listed in the file's
        self._stages = {name.lower(): i for i, name in enumerate(stages or []) if name}
        self.lines: list[str] = []           # a readable log, like --progress=plain
        self.vertices: dict[str, _Vertex] = {}
        self.errors: list[str] = []
        self._pending: list[str] = []

    def feed_line(self, line: str) -> list[str]:
        """Take one output line; return the readable lines it completed (redacted)."""
        if self._pending or line.startswith("{"):
            self._pending.append(line)
            # documents are pretty-printed: only the closing brace of the whole one is at column 0
            if not line.startswith("}"):
                return []
            text, self._pending = self._pending, []
            try:
                doc = json.loads("\n".join(text))
            except ValueError:
                doc = None
            if not isinstance(doc, dict):
                return self._text_lines(text)
            return self._emit(self._status(doc))
        return self._text_lines([line])

    def _text_lines(self, lines: list[str]) -> list[str]:
        out = []
        for line in lines:
            line = self._redact(line)
            if _FAILED.search(line):
                self.errors.append(line.strip())
            out.append(line)
        return self._emit(out, redacted=True)

    def _emit(self, lines: list[str], redacted: bool = False) -> list[str]:
        shown = lines if redacted else [self._redact(line) for line in lines]
        self.lines.extend(shown)
        return shown

    def _status(self, doc: dict[str, Any]) -> list[str]:
        out: list[str] = []
        for raw in doc.get("vertexes") or []:
            digest = str(raw.get("digest") or "")
            vertex = self.vertices.get(digest)
            if vertex is None:
                vertex = self.vertices[digest] = _Vertex(number=len(self.vertices) + 1)
            vertex.name = str(raw.get("name") or vertex.name)
            vertex.started = _go_time(raw.get("started")) or vertex.started
            vertex.completed = _go_time(raw.get("completed")) or vertex.completed
            vertex.cached = vertex.cached or bool(raw.get("cached"))
            vertex.error = str(raw.get("error") or vertex.error)
            out += self._vertex_lines(vertex)
        by_digest = self.vertices
        for entry in doc.get("logs") or []:
            vertex = by_digest.get(str(entry.get("vertex") or ""))
            try:
                data = base64.b64decode(entry.get("data") or "").decode("utf-8", errors="replace")
            except (binascii.Error, ValueError):
                continue
            prefix = f"#{vertex.number} " if vertex else ""
            out += [prefix + line for line in data.splitlines() if line.strip()]
        for warning in doc.get("warnings") or []:
            try:
                short = base64.b64decode(warning.get("short") or "").decode("utf-8", errors="replace")
            except (binascii.Error, ValueError):
                continue
            if short:
                out.append(f"WARNING: {short}")
        return out

    def _vertex_lines(self, vertex: _Vertex) -> list[str]:
        out = []
        n = vertex.number
        if vertex.name and "name" not in vertex.shown:
            vertex.shown.add("name")
            out.append(f"#{n} {vertex.name}")
        if vertex.cached and "cached" not in vertex.shown:
            vertex.shown.add("cached")
            out.append(f"#{n} CACHED")
        if vertex.error and "error" not in vertex.shown:
            vertex.shown.add("error")
            self.errors.append(self._redact(f"ERROR: {vertex.error}"))
            out.append(f"#{n} ERROR: {vertex.error}")
        elif vertex.completed and not vertex.cached and "done" not in vertex.shown:
            vertex.shown.add("done")
            seconds = vertex.completed - vertex.started if vertex.started else 0.0
            out.append(f"#{n} DONE {seconds:.1f}s")
        return out

    @property
    def steps(self) -> list[Step]:
        """The Dockerfile's steps in the order they were first reported; FROM only names the base."""
        found = []
        for vertex in self.vertices.values():
            m = _STEP_VERTEX.match(vertex.name)
            if not m:
                continue        # [internal] loads, metadata, exporting
            instr = m.group("instr")
            if instr.upper().startswith("FROM "):
                continue
            seconds = None
            if vertex.started is not None and vertex.completed is not None:
                seconds = max(0.0, vertex.completed - vertex.started)
            order = (self._stage_index(m.group("stage") or ""), int(m.group("n")), vertex.number)
            found.append((order, Step(name=self._redact(instr), cached=vertex.cached, seconds=seconds)))
        return [step for _, step in sorted(found, key=lambda pair: pair[0])]

    def _stage_index(self, label: str) -> int:
        if label.lower() in self._stages:
            return self._stages[label.lower()]
        m = re.match(r"^stage-(\d+)$", label)
        return int(m.group(1)) if m else 0

    @property
    def step_names(self) -> list[str]:
        """Every step's vertex name as BuildKit gave it (`[stage 2/5] RUN ...`): what its cache records are called."""
        return [v.name for v in self.vertices.values() if _STEP_VERTEX.match(v.name)]

    @property
    def error(self) -> str | None:
        for line in reversed(self.errors):
            if "failed to solve" in line:
                return line.removeprefix("ERROR: ")
        return self.errors[-1].removeprefix("ERROR: ") if self.errors else None


# --------------------------------------------------------------------------
# building


def build_buildkit(engine: Engine, dockerfile_text: str, context_dir: Path, workdir: Path, *,
                   nocache: bool, timeout: float, progress: Progress,
                   features: frozenset[str] = frozenset(), build_args: dict[str, str] | None = None,
                   target: str | None = None, secrets: tuple[str, ...] = (),
                   dockerignore: str | None = None) -> BuildOutcome:
    """One `docker buildx build` of `dockerfile_text` in `context_dir`; what it creates is recorded on `engine`.

    `dockerignore`: the ignore file to build with instead of the context's (the Dockerfile's own
    `Dockerfile.dockerignore`, which BuildKit reads beside it)."""
    buildx, builder = engine.buildx, engine.builder
    if buildx is None or builder is None:
        raise RuntimeError("build_buildkit needs an engine prepared for BuildKit")
    # The Dockerfile goes in a directory of its own, outside the context: the
    # CLI sends it to BuildKit separately, so nothing extra enters the context.
    dfdir = Path(tempfile.mkdtemp(prefix="df-", dir=workdir))
    dockerfile = dfdir / "Dockerfile"
    dockerfile.write_text(dockerfile_text, encoding="utf-8")
    if dockerignore is not None:
        (dfdir / "Dockerfile.dockerignore").write_text(dockerignore, encoding="utf-8")
    metadata = dfdir / "metadata.json"
    argv, env = builder_argv(buildx, builder, engine.cli_host)
    argv += ["build", "--progress=rawjson", "--metadata-file", str(metadata), "--load", "--provenance=false",
             "-f", str(dockerfile)]
    for key, value in engine.labels.items():
        argv += ["--label", f"{key}={value}"]
    if nocache:
        argv.append("--no-cache")
    if target:
        argv += ["--target", target]
    # `--build-arg NAME` takes the value from the CLI's environment: values
    # never appear on a command line (ps) or in our argv.
    for name in build_args or {}:
        argv += ["--build-arg", name]
    for spec in secrets:
        argv += ["--secret", spec]
    argv.append(str(context_dir))
    env.update(build_args or {})
    log = SolveLog(redact=engine.redact, stages=stage_names(dockerfile_text))
    engine.note_buildkit_build(dockerfile_text)
    wall_start = time.time()
    started = time.monotonic()
    try:
        rc, timed_out = _follow(argv, env, started + timeout, log, progress, engine)
    finally:      # (also when interrupted: what the build made so far is ours to prune)
        engine.note_buildkit_done(wall_start, log.step_names)
    seconds = time.monotonic() - started
    image_id = _image_id(metadata)
    engine.track_image(image_id)
    steps = tuple(log.steps)
    if timed_out:
        return BuildOutcome(backend="buildkit", ok=False, seconds=seconds, steps=steps,
                            log_tail=tail(log.lines), timed_out=True,
                            error=f"build did not finish within {timeout:g}s")
    if rc != 0 or not image_id:
        error = log.error or f"docker buildx build exited with status {rc}"
        reason = classify_failure(error, features)
        return BuildOutcome(backend="buildkit", ok=False, seconds=seconds, steps=steps,
                            log_tail=tail(log.lines), error=error,
                            unsupported=f"cannot verify with this builder: {reason}" if reason else None)
    return BuildOutcome(backend="buildkit", ok=True, seconds=seconds, image_id=image_id,
                        steps=steps, log_tail=tail(log.lines))


def builder_argv(buildx: Buildx, builder: Builder, host: str) -> tuple[list[str], dict[str, str]]:
    """`docker [--context C] buildx [--builder B]` for `builder`, and the environment to run it in.

    buildx will not take a docker-driver builder of another context as
    `--builder`: the CLI is pointed at that context instead.
    """
    env = cli_env(host)
    if not builder.explicit:
        return [buildx.path, "buildx"], env
    context = builder.endpoint
    if builder.driver == "docker" and context and "://" not in context and context != "default":
        env.pop("DOCKER_HOST", None)        # (it would override the context)
        return [buildx.path, "--context", context, "buildx"], env
    return [buildx.path, "buildx", "--builder", builder.name], env


def stage_names(text: str) -> list[str]:
    """The name of each stage in file order ("" when it has none)."""
    from .features import logical_lines

    out = []
    for line in logical_lines(text):
        m = re.match(r"(?i)^FROM\s+(.*)$", line)
        if m:
            words = [w for w in m.group(1).split() if not w.startswith("--")]
            out.append(words[2] if len(words) >= 3 and words[1].lower() == "as" else "")
    return out


def _follow(argv: list[str], env: dict[str, str], deadline: float, log: SolveLog, progress: Progress,
            engine: Engine) -> tuple[int | None, bool]:
    """Run the CLI until it ends or `deadline` passes; (exit status, timed out)."""
    # A new session keeps a terminal's Ctrl-C from reaching the CLI directly:
    # we stop it ourselves (see _stop), after which BuildKit cancels the build.
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env, start_new_session=True)
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True)
    reader.start()
    rc = None
    timed_out = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            try:
                line = lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if line is None:
                break
            for shown in log.feed_line(line):
                progress.line(shown)
        if not timed_out:
            rc = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        if proc.poll() is None:
            engine.interrupted = True
        _stop(proc)
    return rc, timed_out


def _image_id(metadata: Path) -> str | None:
    try:
        doc = json.loads(metadata.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = doc.get("containerimage.config.digest") if isinstance(doc, dict) else None
    return value if isinstance(value, str) and value.startswith("sha256:") else None


def _pump(stream: IO[bytes] | None, out: queue.Queue[str | None]) -> None:
    try:
        if stream is not None:
            for raw in iter(stream.readline, b""):
                out.put(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
    except (OSError, ValueError):
        pass        # the CLI was stopped and its output closed under us (timeout, Ctrl-C)
    finally:
        out.put(None)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the CLI like a Ctrl-C would (it then cancels the build), harder if it does not listen."""
    if proc.poll() is None:
        for sig, wait in ((signal.SIGINT, 10), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
    if proc.stdout:
        proc.stdout.close()


# --------------------------------------------------------------------------
# the builder's cache


@dataclass(frozen=True)
class CacheRecord:
    id: str
    description: str
    created: float | None
    in_use: bool
    parents: tuple[str, ...] = ()


def cache_records(engine: Engine) -> dict[str, CacheRecord] | None:
    """The builder's cache records by id; None when they cannot be read."""
    builder = engine.builder
    if builder is None or builder.driver == "docker":
        from .engine import TRANSPORT_ERRORS

        api = engine.client.api
        try:
            # only the build cache: the whole of /system/df also sizes every image and container
            df = api._result(api._get(api._url("/system/df"), params={"type": "build-cache"}), True)
        except TRANSPORT_ERRORS:
            return None
        out = {}
        for r in df.get("BuildCache") or []:
            # (Docker 26 spells the key " Parents"; older engines have a single "Parent")
            parents = r.get("Parents") or r.get(" Parents") or ([r["Parent"]] if r.get("Parent") else [])
            out[r["ID"]] = CacheRecord(r["ID"], r.get("Description") or "", _go_time(r.get("CreatedAt")),
                                       bool(r.get("InUse")), tuple(parents))
        return out
    if engine.buildx is None:
        return None
    argv, env = builder_argv(engine.buildx, builder, engine.cli_host)
    try:
        proc = _run([*argv, "du", "--verbose"], env, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    return parse_du(proc.stdout)


def parse_du(text: str) -> dict[str, CacheRecord]:
    """Records of `docker buildx du --verbose` (blank-line separated `Key: value` blocks)."""
    out = {}
    for block in re.split(r"\n\s*\n", text):
        info = dict(_fields(block))
        rid = info.get("ID")
        if not rid:
            continue
        created = info.get("Created at", "")
        m = re.match(r"^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?) \+0000 UTC$", created)
        when = _go_time(f"{m.group(1)}T{m.group(2)}Z") if m else None
        parents = tuple(p.strip() for p in info.get("Parent", "").split(",") if p.strip())
        out[rid] = CacheRecord(rid, info.get("Description", ""), when, info.get("In use", "").lower() == "true",
                               parents)
    return out


def prune_records(engine: Engine, ids: list[str]) -> int:
    """Remove the cache records `ids` (and only them); how many went."""
    from .engine import TRANSPORT_ERRORS

    pruned = 0
    builder = engine.builder
    # The id filter is a regular expression (moby and buildx both turn it into `id~=`).
    for start in range(0, len(ids), 40):
        batch = ids[start:start + 40]
        pattern = "^(" + "|".join(re.escape(i) for i in batch) + ")$"
        if builder is None or builder.driver == "docker":
            try:
                result = engine.client.api.prune_builds(filters={"id": pattern}, all=True)
                pruned += len(result.get("CachesDeleted") or [])
            except TRANSPORT_ERRORS:
                pass
            continue
        if engine.buildx is None:
            continue
        argv, env = builder_argv(engine.buildx, builder, engine.cli_host)
        try:
            proc = _run([*argv, "prune", "--force", "--all", "--verbose", "--filter", f"id={pattern}"], env,
                        timeout=300)
        except (OSError, subprocess.TimeoutExpired):
            continue
        pruned += sum(1 for line in proc.stdout.splitlines() if line.startswith("ID:"))
    return pruned
