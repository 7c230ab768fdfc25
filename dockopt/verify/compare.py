"""Is the rewritten image the same as the original?  Config, files, and a smoke run.

"The same" means what a user of the image can observe: the runtime config
fields, the files with their type, mode, owner, link target and content, and
the behaviour of a command run in it.  Not compared: mtimes, layer layout,
and paths that only hold caches, docs, logs or build-time artifacts (an
optimizer that drops apt lists or /usr/share/doc did its job).  Those are
counted and reported per category instead.
"""
from __future__ import annotations

import contextlib
import re
import shlex
from collections.abc import Mapping
from typing import Any

import docker.errors

from .engine import RUN_LABEL, TRANSPORT_ERRORS, Engine
from .layers import FileEntry, resolve
from .report import ConfigDiff, FilesystemDiff, IgnoredGroup, PathChange, SmokeRun

CONFIG_FIELDS = ("Cmd", "Entrypoint", "Env", "WorkingDir", "User", "ExposedPorts", "Volumes",
                 "Labels", "Healthcheck", "StopSignal", "Shell", "OnBuild")

MAX_OUTPUT = 64 * 1024


def _norm(field: str, value: Any) -> Any:
    if value in (None, "", [], {}):
        return None
    if field == "Env":
        # order of ENV lines is not observable; a later duplicate wins, as at run time
        out: dict[str, str] = {}
        for item in value:
            key, _, val = item.partition("=")
            out[key] = val
        return out
    if field == "Labels":
        value = {k: v for k, v in value.items() if k != RUN_LABEL}
        return value or None
    return value


def compare_config(original: Mapping[str, Any], rewritten: Mapping[str, Any]) -> tuple[ConfigDiff, ...]:
    """Field-by-field differences of two image configs (the "config" object of the image JSON)."""
    out = []
    for field in CONFIG_FIELDS:
        a, b = _norm(field, original.get(field)), _norm(field, rewritten.get(field))
        if a != b:
            out.append(ConfigDiff(field=field, original=original.get(field), rewritten=rewritten.get(field)))
    return tuple(out)


# --------------------------------------------------------------------------
# files

# (category, pattern) - first match wins.  Patterns are anchored regexes on
# the absolute path; a directory that matches takes its contents with it.
_IGNORED = [
    ("build-artifact", r"/(etc/(hostname|hosts|resolv\.conf|mtab)|\.dockerenv|run/\.containerenv)"),
    # random per install (dbus and systemd make one): two builds of one Dockerfile differ there
    ("build-artifact", r"/(etc|var/lib/dbus)/machine-id"),
    ("build-artifact", r"/(proc|sys|dev)(/.*)?"),
    ("cache", r"/var/cache(/.*)?"),
    ("cache", r"/var/lib/apt/lists(/.*)?"),
    ("cache", r"/var/lib/dpkg/[^/]+-old"),
    ("cache", r"/(root|home/[^/]+)/\.(cache|npm|yarn|pnpm-store|node-gyp|gradle/caches|wget-hsts)(/.*)?"),
    ("cache", r"/(root|home/[^/]+)/\.cargo/registry(/.*)?"),
    ("cache", r"/usr/local/cargo/registry(/.*)?"),
    ("cache", r"/usr/local/share/\.cache(/.*)?"),
    ("cache", r"/(go|root/go)/pkg/mod/cache(/.*)?"),
    ("cache", r".*/__pycache__(/.*)?"),
    ("cache", r".*\.py[co]"),
    ("temp", r"/tmp/.+|/var/tmp/.+"),
    ("docs", r"/usr/(local/)?share/(doc|man|info|gtk-doc)(/.*)?"),
    ("logs", r"/var/log/.+"),
    ("logs", r".+\.log"),      # written while building (timestamps): /logs/app.log
]
_IGNORED_RE = [(cat, re.compile(f"^(?:{pat})$")) for cat, pat in _IGNORED]


def classify(path: str) -> str | None:
    """The category of a path left out of the comparison, or None to compare it."""
    for category, regex in _IGNORED_RE:
        if regex.match(path):
            return category
    return None


def _describe_change(a: FileEntry, b: FileEntry) -> str | None:
    if a.kind != b.kind:
        return f"type {a.kind} -> {b.kind}"
    parts = []
    if a.mode != b.mode:
        parts.append(f"mode {a.mode:04o} -> {b.mode:04o}")
    if (a.uid, a.gid) != (b.uid, b.gid):
        parts.append(f"owner {a.uid}:{a.gid} -> {b.uid}:{b.gid}")
    if a.kind == "symlink" and a.link != b.link:
        parts.append(f"symlink {a.link} -> {b.link}")
    if a.kind == "file" and (a.size, a.digest) != (b.size, b.digest):
        parts.append("content" if a.size == b.size else f"content ({a.size} -> {b.size} bytes)")
    return ", ".join(parts) or None


def compare_files(original: Mapping[str, FileEntry], rewritten: Mapping[str, FileEntry],
                  examples: int = 5) -> FilesystemDiff:
    added: list[str] = []
    removed: list[str] = []
    changed: list[PathChange] = []
    groups: dict[str, list[Any]] = {}     # category -> [paths, bytes_a, bytes_b, examples]
    compared = 0
    for path in sorted(set(original) | set(rewritten)):
        a, b = original.get(path), rewritten.get(path)
        category = classify(path)
        if category is not None:
            g = groups.setdefault(category, [0, 0, 0, []])
            g[0] += 1
            g[1] += a.size if a else 0
            g[2] += b.size if b else 0
            if len(g[3]) < examples and (a is None) != (b is None):
                g[3].append(path)
            continue
        compared += 1
        if a is None:
            added.append(path)
        elif b is None:
            removed.append(path)
        else:
            detail = _describe_change(a, b)
            if detail:
                changed.append(PathChange(path=path, detail=detail))
    ignored = tuple(IgnoredGroup(category=c, paths=g[0], original_bytes=g[1], rewritten_bytes=g[2],
                                 examples=tuple(g[3])) for c, g in sorted(groups.items()))
    return FilesystemDiff(added=tuple(added), removed=tuple(removed), changed=tuple(changed),
                          ignored=ignored, compared_paths=compared)


# --------------------------------------------------------------------------
# smoke


def smoke_argv(command: str, files: Mapping[str, FileEntry]) -> tuple[list[str], list[str]]:
    """(entrypoint, cmd) to run `command`: through /bin/sh -c if the image has a shell.

    The image's own ENTRYPOINT is replaced either way: a smoke command is a
    command line to run in the image, not arguments for its entrypoint.
    """
    shell = resolve(files, "/bin/sh")
    if shell is not None and shell.kind == "file":
        return ["/bin/sh", "-c"], [command]
    argv = shlex.split(command)
    if not argv:
        raise ValueError("empty smoke command")
    return [argv[0]], argv[1:]


def run_smoke(engine: Engine, image_id: str, command: str, files: Mapping[str, FileEntry],
              timeout: float) -> SmokeRun:
    entrypoint, cmd = smoke_argv(command, files)
    argv = tuple(entrypoint + cmd)
    container = None
    try:
        container = engine.client.containers.create(
            image_id, command=cmd, entrypoint=entrypoint, labels=engine.labels,
            privileged=False, detach=True, stdin_open=False, tty=False)
        engine.track_container(container.id)
        container.start()
        timed_out = False
        try:
            status = container.wait(timeout=timeout)
            code = status.get("StatusCode")
        except TRANSPORT_ERRORS:
            timed_out, code = True, None
            with contextlib.suppress(*TRANSPORT_ERRORS):
                container.kill()
        raw = container.logs(stdout=True, stderr=True)
        output = raw[-MAX_OUTPUT:].decode("utf-8", errors="replace")
        return SmokeRun(argv=argv, exit_code=code, output=output, timed_out=timed_out)
    except docker.errors.APIError as exc:
        return SmokeRun(argv=argv, exit_code=None, output="", error=str(exc.explanation or exc))
    except TRANSPORT_ERRORS as exc:
        return SmokeRun(argv=argv, exit_code=None, output="", error=f"engine call failed: {exc}")
    finally:
        if container is not None:
            with contextlib.suppress(*TRANSPORT_ERRORS):   # Engine.cleanup() tries again by id and label
                container.remove(force=True)
