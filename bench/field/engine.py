"""Builds and probes through the docker CLI (BuildKit via ``docker buildx build``).

Everything the bench creates carries the label ``org.dockopt.field=1`` and is removed by name.
"""
from __future__ import annotations

import re
import shlex
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from .verdict import EXITED, RUNNING, Probe

LABEL = "org.dockopt.field"
_STEP_LINE = re.compile(r"^#(\d+) (?:\d+\.\d+ )?(.*)$")
# how tools start the line that says what went wrong (apt's E:, npm ERR!, Python's exceptions, sh's not found)
_ERROR_LINE = re.compile(r"^(?:E:|error\b|ERROR\b|Error\b|fatal\b|FATAL\b|npm ERR!|\S*(?:Error|Exception):)"
                         r"|: not found$")


class EngineError(RuntimeError):
    """The engine itself failed (not a build of ours): the bench stops."""


def docker(*args: str, timeout: float = 120, check: bool = False) -> subprocess.CompletedProcess[str]:
    try:
        p = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise EngineError("the docker command is not installed") from None
    if check and p.returncode != 0:
        raise EngineError(f"docker {' '.join(args[:2])} failed: {(p.stderr or p.stdout).strip()[-500:]}")
    return p


def engine_version() -> str:
    p = docker("version", "--format", "{{.Server.Version}}", timeout=60)
    if p.returncode != 0:
        raise EngineError(f"the Docker engine does not answer: {(p.stderr or p.stdout).strip()[-300:]}")
    return p.stdout.strip()


def image_available(ref: str) -> bool:
    return docker("image", "inspect", "--format", "{{.Id}}", ref, timeout=60).returncode == 0


def remove_image(tag: str) -> None:
    docker("image", "rm", "-f", tag, timeout=300)


@dataclass
class Build:
    ok: bool
    seconds: float
    log: str  # path of the full build log
    failed_step: str = ""  # BuildKit's title of the step that failed
    error_line: str = ""  # the line of the log that shows what broke
    timed_out: bool = False
    unavailable: bool = False  # not tried: an image it needs is not to be had here


def failure_lines(log: str) -> tuple[str, str]:
    """(failing step, the line that shows why) from a ``--progress plain`` BuildKit log.

    The line is the failing step's last line of output that reads as an error (apt's ``E:``, a
    Python exception, ``sh: ...: not found``), else its last line of output (where tools say what
    went wrong); without output, BuildKit's final ``ERROR:`` line."""
    titles: dict[str, str] = {}
    output: dict[str, list[str]] = {}
    failed = ""
    final = ""
    for line in log.splitlines():
        if line.startswith(("ERROR:", "ERROR ")):
            final = final or line.strip()
            continue
        m = _STEP_LINE.match(line)
        if not m:
            continue
        step, text = m.groups()
        if step not in titles and text.startswith("["):
            titles[step] = text
            continue
        if text.startswith("ERROR:"):
            failed = failed or step
            final = final or text
            continue
        if text.strip() and not text.startswith(("DONE", "CACHED", "sha256:", "transferring", "resolve ")):
            output.setdefault(step, []).append(text.strip())
    if not failed:
        return "", final
    lines = [t for t in output.get(failed, []) if not t.startswith("...")]
    errors = [t for t in lines if _ERROR_LINE.search(t)]
    return titles.get(failed, ""), (errors[-1] if errors else lines[-1] if lines else final)


def build(context: Path, dockerfile: Path, tag: str, log_path: Path, *, target: str = "",
          build_args: dict[str, str] | None = None, timeout: float = 1800) -> Build:
    cmd = ["docker", "buildx", "build", "--load", "--progress", "plain", "-f", str(dockerfile), "-t", tag,
           "--label", f"{LABEL}=1"]
    if target:
        cmd += ["--target", target]
    for name, value in (build_args or {}).items():
        cmd += ["--build-arg", f"{name}={value}"]
    cmd.append(str(context))
    log_path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with open(log_path, "w", encoding="utf-8", errors="replace") as log:
        log.write("$ " + shlex.join(cmd) + "\n")
        log.flush()
        try:
            p = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=False)
            rc: int | None = p.returncode
        except subprocess.TimeoutExpired:
            rc = None
    seconds = time.monotonic() - t0
    text = log_path.read_text(encoding="utf-8", errors="replace")
    if rc == 0:
        return Build(True, seconds, str(log_path))
    step, line = failure_lines(text)
    if rc is None:
        return Build(False, seconds, str(log_path), step, f"timed out after {timeout:.0f} s", timed_out=True)
    return Build(False, seconds, str(log_path), step, line or f"docker buildx build exited {rc}")


def _tail(text: str, n: int = 5) -> str:
    return "\n".join(text.strip().splitlines()[-n:])


def probe(image: str, smoke: str = "", seconds: float = 8.0) -> Probe:
    """Run the smoke command (its first word as the entrypoint), or start the image's own
    ENTRYPOINT/CMD and look after ``seconds``.  No network: a server binds, nothing goes out."""
    name = f"dockopt-field-{uuid.uuid4().hex[:12]}"
    base = ["run", "--name", name, "--label", f"{LABEL}=1", "--network", "none"]
    try:
        if smoke:
            argv = shlex.split(smoke)
            try:
                p = docker(*base, "--entrypoint", argv[0], image, *argv[1:], timeout=max(60.0, seconds * 10))
            except subprocess.TimeoutExpired:
                return Probe("smoke", RUNNING, None, "smoke command did not finish")
            return Probe("smoke", EXITED, p.returncode, _tail(p.stdout + p.stderr))
        p = docker(*base, "-d", image, timeout=120)
        if p.returncode != 0:
            return Probe("liveness", EXITED, p.returncode, _tail(p.stderr))
        time.sleep(seconds)
        state = docker("inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", name, timeout=60).stdout.split()
        logs = docker("logs", "--tail", "20", name, timeout=60)
        tail = _tail(logs.stdout + logs.stderr)
        if state and state[0] == "true":
            return Probe("liveness", RUNNING, None, tail)
        return Probe("liveness", EXITED, int(state[1]) if len(state) > 1 else None, tail)
    finally:
        docker("rm", "-f", name, timeout=120)
