"""Building a Dockerfile text in a context, with either backend.

* "sdk": the classic builder through docker-py's build API.  No BuildKit, so
  no RUN --mount, heredocs, COPY --link...  The log says " ---> Using cache"
  for each cached step.
* "buildkit": `docker build` with DOCKER_BUILDKIT=1 and --progress=plain
  (docker-py cannot speak BuildKit's session protocol).  The log says
  "#N CACHED" for each cached vertex.

Both return the same BuildOutcome and record what they create on the Engine,
so cleanup finds it.  Neither writes anything into the build context.
"""
from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import docker.errors
import requests.exceptions
import urllib3.exceptions
from docker.utils.build import create_archive, exclude_paths

from .engine import Engine
from .report import BuildOutcome, Step

LOG_TAIL_LINES = 40

# Name under which the sdk backend ships the Dockerfile inside the context tar.
# It is listed in the tar's .dockerignore, so the daemon drops it from the
# context after reading it and `COPY . .` never copies it into the image.
SDK_DOCKERFILE = ".dockopt-verify.Dockerfile"

READ_ERRORS = (
    requests.exceptions.RequestException,
    urllib3.exceptions.HTTPError,
    TimeoutError,
    ConnectionError,
)


class _Deadline(Exception):
    pass


def _tail(lines: list[str]) -> str:
    return "\n".join(lines[-LOG_TAIL_LINES:])


# --------------------------------------------------------------------------
# the context tar for the classic builder


def read_dockerignore(context_dir: Path) -> tuple[list[str], str | None]:
    """Patterns of context_dir/.dockerignore (as docker-py reads them) and its raw text."""
    path = context_dir / ".dockerignore"
    if not path.is_file():
        return [], None
    raw = path.read_text(encoding="utf-8", errors="surrogateescape")
    patterns = [ln.strip() for ln in raw.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    return patterns, raw


def make_context_tar(context_dir: Path, dockerfile_text: str):
    """A temp file holding the context as `docker build` would send it, plus our Dockerfile.

    The user's .dockerignore is honoured when choosing files.  The tar's own
    .dockerignore is the user's text with our Dockerfile's name appended (or,
    without one, a file ignoring itself and our Dockerfile), which is what
    makes the daemon remove both from the context like the CLI's would be.
    """
    patterns, raw = read_dockerignore(context_dir)
    files = sorted(exclude_paths(str(context_dir), list(patterns), dockerfile=SDK_DOCKERFILE))
    if raw is None:
        ignore_text = f".dockerignore\n{SDK_DOCKERFILE}\n"
    else:
        ignore_text = raw + ("" if raw.endswith("\n") or not raw else "\n") + SDK_DOCKERFILE + "\n"
    # returned open (the caller streams it to the engine, then closes it)
    fileobj = tempfile.TemporaryFile(prefix="dockopt-verify-ctx-")  # noqa: SIM115
    return create_archive(root=str(context_dir), files=files, fileobj=fileobj,
                          extra_files=[(".dockerignore", ignore_text), (SDK_DOCKERFILE, dockerfile_text)])


# --------------------------------------------------------------------------
# log parsing (pure, unit-tested)


_STEP = re.compile(r"^Step \d+/\d+ : (.*)$")
_RESULT = re.compile(r"^ ---> ([0-9a-f]{12,64})$")
_RUNNING = re.compile(r"^ ---> Running in ([0-9a-f]{12,64})$")


class ClassicLog:
    """Follows the classic builder's JSON stream."""

    def __init__(self, own_label: str | None = None, redact=lambda text: text):
        self.own_label = own_label    # "LABEL org.dockopt.run=..." step that --label adds
        self._redact = redact         # applied to every line before it is kept or shown
        self.lines: list[str] = []
        self.steps: list[Step] = []
        self.created_images: list[str] = []
        self.containers: list[str] = []
        self.image_id: str | None = None
        self.error: str | None = None
        self._partial = ""
        self._current: str | None = None     # name of the step in progress
        self._current_cached = False
        self._current_counts = False

    def feed(self, chunk: dict) -> list[str]:
        """Take one decoded JSON message; return the complete log lines it finished."""
        new: list[str] = []
        if "stream" in chunk:
            text = self._partial + chunk["stream"]
            *done, self._partial = text.split("\n")
            for line in done:
                line = self._redact(line)
                self._line(line)
                new.append(line)
        if "aux" in chunk and isinstance(chunk["aux"], dict) and chunk["aux"].get("ID"):
            self.image_id = chunk["aux"]["ID"]
        if "error" in chunk:
            self.error = self._redact(str(chunk.get("error") or chunk.get("errorDetail", {}).get("message")))
            self.lines.append(self.error)
            new.append(self.error)
        elif "status" in chunk and chunk.get("status"):
            self.lines.append(self._redact(str(chunk["status"])))
        return new

    def _close_step(self) -> None:
        if self._current is not None and self._current_counts:
            self.steps.append(Step(name=self._current, cached=self._current_cached))
        self._current = None

    def _line(self, line: str) -> None:
        self.lines.append(line)
        m = _STEP.match(line)
        if m:
            self._close_step()
            name = m.group(1).strip()
            self._current, self._current_cached = name, False
            # FROM only names the base; our own label step is not the user's.
            self._current_counts = not (name.upper().startswith("FROM ")
                                        or (self.own_label and name == self.own_label))
            return
        if line.strip() == "---> Using cache":
            self._current_cached = True
            return
        m = _RUNNING.match(line)
        if m:
            self.containers.append(m.group(1))
            return
        m = _RESULT.match(line)
        if m and self._current is not None:
            is_from = self._current.upper().startswith("FROM ")
            if not self._current_cached and not is_from:
                self.created_images.append(m.group(1))
        if line.startswith("Successfully built "):
            self._close_step()
            self.image_id = self.image_id or line.split()[-1]

    def finish(self) -> None:
        if self._partial:
            self._line(self._redact(self._partial))
            self._partial = ""
        # a step that failed ran (and failed): it counts as run
        self._close_step()


_VERTEX = re.compile(r"^#(\d+) (.*)$")
_STEP_VERTEX = re.compile(r"^\[(?:(?P<stage>[^\]]*?) )?(?P<n>\d+)/(?P<m>\d+)\] (?P<instr>.+)$")
_TIMED_LOG = re.compile(r"^\d+\.\d+ ")


class BuildkitLog:
    """Follows `docker build --progress=plain` output."""

    def __init__(self, redact=lambda text: text):
        self._redact = redact
        self.lines: list[str] = []
        self.names: dict[int, str] = {}
        self.order: list[int] = []
        self.cached: set[int] = set()
        self.errors: list[str] = []

    def feed_line(self, line: str) -> str:
        """Take one output line; return it as it may be shown (build-argument values hidden)."""
        line = self._redact(line)
        self._feed(line)
        return line

    def _feed(self, line: str) -> None:
        self.lines.append(line)
        m = _VERTEX.match(line)
        if not m:
            if re.search(r"(?i)\b(error|failed to solve)\b", line):
                self.errors.append(line.strip())
            return
        vid, rest = int(m.group(1)), m.group(2)
        if rest == "CACHED":
            self.cached.add(vid)
        elif rest.startswith(("DONE", "sha256:", "CANCELED")) or _TIMED_LOG.match(rest):
            pass
        elif rest.startswith("ERROR"):
            self.errors.append(rest)
        elif vid not in self.names:
            self.names[vid] = rest
            self.order.append(vid)

    @property
    def steps(self) -> list[Step]:
        out = []
        for vid in self.order:
            m = _STEP_VERTEX.match(self.names[vid])
            if not m:
                continue      # [internal] loads, metadata, exporting
            instr = m.group("instr")
            if instr.upper().startswith("FROM "):
                continue
            out.append(Step(name=instr, cached=vid in self.cached))
        return out

    @property
    def error(self) -> str | None:
        for line in reversed(self.errors):
            if "failed to solve" in line or line.startswith("ERROR"):
                return line
        return self.errors[-1] if self.errors else None


def classify_failure(error: str, features: frozenset[str]) -> str | None:
    """Map a build error caused by the engine's frontend (not by the file) to a reason."""
    if not error:
        return None
    m = re.search(r"dockerfile parse error.*?Unknown flag: ([\w-]+)", error)
    if m:
        return f"this engine's Dockerfile frontend does not know the --{m.group(1)} flag"
    if "heredoc" in features and re.search(r"dockerfile parse error.*unknown instruction", error):
        return "this engine's Dockerfile frontend does not support heredocs (needs dockerfile:1.4+)"
    return None


def frontend_unavailable(error: str, ref: str) -> bool:
    """True when a `# syntax=` frontend image could not be fetched."""
    if not error:
        return False
    name = ref.split("@", 1)[0].split(":", 1)[0]
    return ("frontend gateway" in error or name in error) and bool(re.search(
        r"(failed to do request|no such host|pull access denied|not found|failed to resolve|"
        r"connection refused|i/o timeout|dial tcp|server misbehaving)", error))


_NO_SPACE = re.compile(r"(?i)no space left on device|ENOSPC|disk quota exceeded")


def out_of_space(outcome: BuildOutcome) -> bool:
    """True when a failed build ran out of disk (the build step's own writes or the engine's)."""
    return not outcome.ok and bool(_NO_SPACE.search(f"{outcome.error or ''}\n{outcome.log_tail}"))


def engine_fault(engine: Engine, outcome: BuildOutcome, role: str) -> str | None:
    """Why a failed build is the engine's fault, not the file's, as one line; None when it is not.

    Checked in this order: the engine no longer answers (it stopped, or was
    killed, mid-build: the build may look like a step killed with 137 or a
    broken stream); the disk holding its data root is full; the connection
    broke although the engine still answers.
    """
    if outcome.ok or outcome.unsupported:
        return None
    if not engine.alive():
        return f"the Docker engine stopped during the build of the {role} image (engine {engine.host})"
    if out_of_space(outcome):
        return f"no space left on the device holding the Docker data root ({_disk_state(engine.data_root)})"
    if (outcome.error or "").startswith("engine connection failed"):
        return f"the connection to the Docker engine broke during the build of the {role} image ({outcome.error})"
    return None


def _disk_state(data_root: str) -> str:
    """`/var/lib/docker, 0 B free of 20.0 GiB` when the data root is on this machine, else its path."""
    from .report import human_bytes

    where = data_root or "unknown path"
    try:
        st = os.statvfs(data_root)
    except (OSError, ValueError):
        return f"{where} on the engine's host"
    return f"{where}, {human_bytes(st.f_bavail * st.f_frsize)} free of {human_bytes(st.f_blocks * st.f_frsize)}"


# --------------------------------------------------------------------------
# backends


def build_sdk(engine: Engine, dockerfile_text: str, context_dir: Path, *, nocache: bool,
              timeout: float, progress, build_args: dict[str, str] | None = None) -> BuildOutcome:
    started = time.monotonic()
    deadline = started + timeout
    own_label = f"LABEL {' '.join(f'{k}={v}' for k, v in engine.labels.items())}"
    log = ClassicLog(own_label=own_label, redact=engine.redact)
    timed_out = False
    transport_error = None
    context = make_context_tar(context_dir, dockerfile_text)
    stream = None
    finished = False
    try:
        # `timeout` bounds each socket read, so a step that hangs silently
        # still ends the build; the deadline check bounds chatty builds.
        stream = engine.client.api.build(
            fileobj=context, custom_context=True, dockerfile=SDK_DOCKERFILE,
            labels=engine.labels, nocache=nocache, rm=True, forcerm=True, pull=False,
            buildargs=dict(build_args or {}), decode=True, timeout=max(1.0, timeout))
        for chunk in stream:
            for line in log.feed(chunk):
                progress.line(line)
            _track_classic(engine, log)
            if time.monotonic() > deadline:
                raise _Deadline()
        finished = True
    except _Deadline:
        timed_out = True
    except docker.errors.APIError as exc:
        # (an HTTPError subclass, so it goes first) the engine refused the
        # build outright, e.g. a Dockerfile it cannot parse
        transport_error = engine.redact(str(exc.explanation or exc).replace(SDK_DOCKERFILE, "Dockerfile"))
        finished = True
    except READ_ERRORS as exc:
        if _is_timeout(exc):
            timed_out = True
        else:
            transport_error = engine.redact(f"engine connection failed: {exc}")
    finally:
        # Closing the stream drops the connection, which makes the daemon
        # cancel the build and remove its intermediate container.
        if stream is not None:
            stream.close()
        context.close()
        if not finished:
            engine.interrupted = True
    log.finish()
    _track_classic(engine, log)
    seconds = time.monotonic() - started
    if timed_out:
        return BuildOutcome(backend="sdk", ok=False, seconds=seconds, steps=tuple(log.steps),
                            log_tail=_tail(log.lines), timed_out=True,
                            error=f"build did not finish within {timeout:g}s")
    error = transport_error or log.error
    if error or not log.image_id:
        return BuildOutcome(backend="sdk", ok=False, seconds=seconds, steps=tuple(log.steps),
                            log_tail=_tail(log.lines), error=error or "no image id in the build log")
    engine.track_image(log.image_id)
    return BuildOutcome(backend="sdk", ok=True, seconds=seconds, image_id=log.image_id,
                        steps=tuple(log.steps), log_tail=_tail(log.lines))


def _track_classic(engine: Engine, log: ClassicLog) -> None:
    for iid in log.created_images:
        engine.track_image(iid)
    for cid in log.containers:
        engine.track_container(cid)


def _is_timeout(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)):
            return True
        if "timed out" in str(exc).lower():
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def build_buildkit(engine: Engine, dockerfile_text: str, context_dir: Path, workdir: Path, *,
                   nocache: bool, timeout: float, progress, features: frozenset[str] = frozenset(),
                   build_args: dict[str, str] | None = None) -> BuildOutcome:
    cli = engine.buildkit_cli()
    if isinstance(cli, str):
        return BuildOutcome(backend="buildkit", ok=False, seconds=0.0, error=cli,
                            unsupported=f"cannot verify with this engine: {cli}")
    # The Dockerfile goes in a directory of its own, outside the context: the
    # CLI sends it to BuildKit separately, so nothing extra enters the context.
    dfdir = Path(tempfile.mkdtemp(prefix="df-", dir=workdir))
    dockerfile = dfdir / "Dockerfile"
    dockerfile.write_text(dockerfile_text, encoding="utf-8")
    iidfile = workdir / f"{dfdir.name}.iid"
    argv = [cli.path, "build", "--progress=plain", "--iidfile", str(iidfile), "-f", str(dockerfile)]
    for key, value in engine.labels.items():
        argv += ["--label", f"{key}={value}"]
    if nocache:
        argv.append("--no-cache")
    # `--build-arg NAME` takes the value from the CLI's environment: values
    # never appear on a command line (ps) or in our argv.
    for name in build_args or {}:
        argv += ["--build-arg", name]
    argv.append(str(context_dir))
    env = dict(os.environ, DOCKER_BUILDKIT="1", DOCKER_HOST=engine.host, **(build_args or {}))
    log = BuildkitLog(redact=engine.redact)
    engine.note_buildkit_build(dockerfile_text)
    wall_start = time.time()
    started = time.monotonic()
    deadline = started + timeout
    timed_out = False
    rc = None
    # A new session keeps a terminal's Ctrl-C from reaching the CLI directly:
    # we stop it ourselves, after which BuildKit cancels the build.
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env, start_new_session=True)
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True)
    reader.start()
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
            progress.line(log.feed_line(line))
        if not timed_out:
            rc = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        if proc.poll() is None:
            engine.interrupted = True
        _stop(proc)
        engine.buildkit_windows.append((wall_start, time.time()))
    seconds = time.monotonic() - started
    image_id = iidfile.read_text().strip() if iidfile.exists() else None
    engine.track_image(image_id)
    steps = tuple(log.steps)
    if timed_out:
        return BuildOutcome(backend="buildkit", ok=False, seconds=seconds, steps=steps,
                            log_tail=_tail(log.lines), timed_out=True,
                            error=f"build did not finish within {timeout:g}s")
    if rc != 0 or not image_id:
        error = log.error or f"docker build exited with status {rc}"
        return BuildOutcome(backend="buildkit", ok=False, seconds=seconds, steps=steps,
                            log_tail=_tail(log.lines), error=error,
                            unsupported=_unsupported(error, features))
    return BuildOutcome(backend="buildkit", ok=True, seconds=seconds, image_id=image_id,
                        steps=steps, log_tail=_tail(log.lines))


def _unsupported(error: str, features: frozenset[str]) -> str | None:
    reason = classify_failure(error, features)
    return f"cannot verify with this engine: {reason}" if reason else None


def _pump(stream, out: queue.Queue) -> None:
    try:
        for raw in iter(stream.readline, b""):
            out.put(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
    finally:
        out.put(None)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
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
