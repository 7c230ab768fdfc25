"""The classic builder through docker-py's build API.

Docker deprecated it in 23.0, but it is what an engine without the buildx
plugin on the client side builds with.  Every step commits an image (the
intermediate images and the step containers carry no label, so their ids are
taken from the log and recorded on the Engine), and the log says
" ---> Using cache" for each cached step.
"""
from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import docker.errors
import requests.exceptions
import urllib3.exceptions
from docker.utils.build import create_archive, exclude_paths

from .build import read_dockerignore, tail
from .report import BuildOutcome, Step

if TYPE_CHECKING:
    from .engine import Engine
    from .progress import Progress

# Name under which the Dockerfile travels inside the context tar.  It is
# listed in the tar's .dockerignore, so the daemon drops it from the context
# after reading it and `COPY . .` never copies it into the image.
CONTEXT_DOCKERFILE = ".dockopt-verify.Dockerfile"

READ_ERRORS = (
    requests.exceptions.RequestException,
    urllib3.exceptions.HTTPError,
    TimeoutError,
    ConnectionError,
)


class _Deadline(Exception):
    pass


def make_context_tar(context_dir: Path, dockerfile_text: str) -> IO[bytes]:
    """A temp file holding the context as `docker build` would send it, plus our Dockerfile.

    The user's .dockerignore is honoured when choosing files.  The tar's own
    .dockerignore is the user's text with our Dockerfile's name appended (or,
    without one, a file ignoring itself and our Dockerfile), which is what
    makes the daemon remove both from the context like the CLI's would be.
    """
    patterns, raw = read_dockerignore(context_dir)
    files = sorted(exclude_paths(str(context_dir), list(patterns), dockerfile=CONTEXT_DOCKERFILE))
    if raw is None:
        ignore_text = f".dockerignore\n{CONTEXT_DOCKERFILE}\n"
    else:
        ignore_text = raw + ("" if raw.endswith("\n") or not raw else "\n") + CONTEXT_DOCKERFILE + "\n"
    # returned open (the caller streams it to the engine, then closes it)
    fileobj = tempfile.TemporaryFile(prefix="dockopt-verify-ctx-")  # noqa: SIM115
    archive: IO[bytes] = create_archive(
        root=str(context_dir), files=files, fileobj=fileobj,
        extra_files=[(".dockerignore", ignore_text), (CONTEXT_DOCKERFILE, dockerfile_text)])
    return archive


# --------------------------------------------------------------------------
# log parsing (pure, unit-tested)


_STEP = re.compile(r"^Step \d+/\d+ : (.*)$")
_RESULT = re.compile(r"^ ---> ([0-9a-f]{12,64})$")
_RUNNING = re.compile(r"^ ---> Running in ([0-9a-f]{12,64})$")


class ClassicLog:
    """Follows the classic builder's JSON stream."""

    def __init__(self, own_label: str | None = None, redact: Callable[[str], str] = lambda text: text):
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
        self._current_started = 0.0

    def feed(self, chunk: dict[str, Any]) -> list[str]:
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
            self.steps.append(Step(name=self._current, cached=self._current_cached,
                                   seconds=time.monotonic() - self._current_started))
        self._current = None

    def _line(self, line: str) -> None:
        self.lines.append(line)
        m = _STEP.match(line)
        if m:
            self._close_step()
            name = m.group(1).strip()
            self._current, self._current_cached = name, False
            self._current_started = time.monotonic()
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


# --------------------------------------------------------------------------
# the build


def build_classic(engine: Engine, dockerfile_text: str, context_dir: Path, *, nocache: bool,
                  timeout: float, progress: Progress, build_args: dict[str, str] | None = None,
                  target: str | None = None) -> BuildOutcome:
    """One classic build of `dockerfile_text` in `context_dir`; what it creates is recorded on `engine`."""
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
            fileobj=context, custom_context=True, dockerfile=CONTEXT_DOCKERFILE,
            labels=engine.labels, nocache=nocache, rm=True, forcerm=True, pull=False,
            buildargs=dict(build_args or {}), target=target, decode=True, timeout=max(1.0, timeout))
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
        transport_error = engine.redact(str(exc.explanation or exc).replace(CONTEXT_DOCKERFILE, "Dockerfile"))
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
    return _classic_outcome(engine, log, time.monotonic() - started, timeout=timeout, timed_out=timed_out,
                            transport_error=transport_error)


def _classic_outcome(engine: Engine, log: ClassicLog, seconds: float, *, timeout: float, timed_out: bool,
                     transport_error: str | None) -> BuildOutcome:
    """The outcome of a finished (or abandoned) classic build from its log; a built image is tracked."""
    if timed_out:
        return BuildOutcome(backend="classic", ok=False, seconds=seconds, steps=tuple(log.steps),
                            log_tail=tail(log.lines), timed_out=True,
                            error=f"build did not finish within {timeout:g}s")
    error = transport_error or log.error
    if error or not log.image_id:
        return BuildOutcome(backend="classic", ok=False, seconds=seconds, steps=tuple(log.steps),
                            log_tail=tail(log.lines), error=error or "no image id in the build log")
    engine.track_image(log.image_id)
    return BuildOutcome(backend="classic", ok=True, seconds=seconds, image_id=log.image_id,
                        steps=tuple(log.steps), log_tail=tail(log.lines))


def _track_classic(engine: Engine, log: ClassicLog) -> None:
    for iid in log.created_images:
        engine.track_image(iid)
    for cid in log.containers:
        engine.track_container(cid)


def _is_timeout(exc: BaseException | None) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)):
            return True
        if "timed out" in str(exc).lower():
            return True
        exc = exc.__cause__ or exc.__context__
    return False
