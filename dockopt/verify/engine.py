"""The Docker engine the verifier talks to: connection, labels, bookkeeping, cleanup.

Everything a verification creates on the engine is either labelled
`org.dockopt.run=<run id>` or, where the engine gives no way to label it
(intermediate images of the classic builder, BuildKit cache records),
recorded here by id as the build log names it.  `Engine.cleanup()` removes
all of it, and only it: other people's images, containers and cache on the
same engine are never touched.  The ids are also kept in a journal on disk
(journal.py), so that when the engine dies mid-run the next run against it
removes what this one could not (`Engine.sweep_stale()`).
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors
import requests.exceptions

from . import buildkit, journal
from .buildkit import Builder, Buildx
from .report import Cleanup

RUN_LABEL = "org.dockopt.run"
DEFAULT_HOST = "unix:///var/run/docker.sock"
CONNECT_TIMEOUT = 10.0     # seconds to reach the engine at all
API_TIMEOUT = 120.0        # default for ordinary API calls (inspect, remove, save chunks)

# Run ids this process created: lets a test session check it left nothing
# behind without being confused by other people's runs on a shared engine.
RUN_IDS: list[str] = []

TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.RequestException,
    docker.errors.DockerException,
    ConnectionError,
    TimeoutError,
    OSError,
)


class EngineFault(RuntimeError):
    """The engine failed the verification (stopped, out of disk, unreachable): not the file's fault."""


class EngineUnavailable(EngineFault):
    """No Docker engine answers where DOCKER_HOST (or the default socket) points."""


def engine_host() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_HOST


def _unavailable(host: str, reason: object) -> EngineUnavailable:
    return EngineUnavailable(
        f"no Docker engine reachable at {host} ({reason}). Start one "
        "(`sudo systemctl start docker`, or `sudo dockerd &` where there is no systemd), "
        "or set DOCKER_HOST to a running engine (e.g. DOCKER_HOST=unix:///run/docker.sock)."
    )


@dataclass
class Engine:
    """A connected engine plus what one verification run created on it."""

    client: docker.DockerClient
    host: str
    version: str
    api_version: str
    run_id: str
    engine_id: str = ""
    data_root: str = ""      # the engine's DockerRootDir, as it reports it
    # BuildKit: the CLI, the builder, and the DOCKER_HOST the CLI runs with (the
    # user's; `host` differs when a docker-driver builder belongs to another engine)
    buildx: Buildx | None = None
    builder: Builder | None = None
    cli_host: str = ""
    images: list[str] = field(default_factory=list)       # creation order
    containers: list[str] = field(default_factory=list)
    # BuildKit cache bookkeeping: ids present before our first BuildKit build,
    # the (start, end) wall-clock windows of our builds and their steps' names.
    cache_before: frozenset[str] | None = None
    cache_windows: list[tuple[float, float]] = field(default_factory=list)
    cache_names: list[str] = field(default_factory=list)       # as BuildKit named them (build args expanded)
    cache_commands: list[str] = field(default_factory=list)    # the RUN commands as the files write them
    # set when a build was cut short (timeout, Ctrl-C, lost connection): the
    # daemon may still be finishing the step it was in
    interrupted: bool = False
    # values of build arguments: never shown (see redact())
    secrets: tuple[str, ...] = ()
    _journal: journal.Journal | None = None

    def redact(self, text: str) -> str:
        """`text` with every build-argument value replaced by ***."""
        for value in self.secrets:
            text = text.replace(value, "***")
        return text

    @property
    def labels(self) -> dict[str, str]:
        return {RUN_LABEL: self.run_id}

    @property
    def major(self) -> int:
        try:
            return int(self.version.split(".", 1)[0])
        except ValueError:
            return 0

    # -- bookkeeping -------------------------------------------------------

    def track_image(self, image_id: str | None) -> None:
        if image_id and image_id not in self.images:
            self.images.append(image_id)
            self._record()

    def track_container(self, container_id: str | None) -> None:
        if container_id and container_id not in self.containers:
            self.containers.append(container_id)
            self._record()

    def _record(self) -> None:
        if self._journal is not None:
            cache = {"windows": self.cache_windows, "names": [self.redact(n) for n in self.cache_names],
                     "commands": self.cache_commands,
                     "builder": self.builder.name if self.builder and self.builder.explicit else None}
            self._journal.record(self.images, self.containers, cache)

    def alive(self, timeout: float = 5.0) -> bool:
        """Does the engine still answer?"""
        saved = self.client.api.timeout
        try:
            self.client.api.timeout = timeout
            return bool(self.client.ping())
        except TRANSPORT_ERRORS:
            return False
        finally:
            self.client.api.timeout = saved

    def sweep_stale(self) -> int:
        """Remove what earlier runs that died left on this engine; return how many objects."""
        removed = 0
        for stale in journal.stale_runs(self.engine_id):
            cache = stale.cache or {}
            same_builder = (cache.get("builder") or None) == (
                self.builder.name if self.builder and self.builder.explicit else None)
            ghost = Engine(client=self.client, host=self.host, version=self.version,
                           api_version=self.api_version, run_id=stale.run_id,
                           buildx=self.buildx, builder=self.builder, cli_host=self.cli_host,
                           images=stale.images, containers=stale.containers)
            if same_builder and cache.get("windows"):
                ghost.cache_before = frozenset()
                ghost.cache_windows = [(float(a), float(b)) for a, b in cache["windows"]]
                ghost.cache_names = [str(n) for n in cache.get("names") or []]
                ghost.cache_commands = [str(c) for c in cache.get("commands") or []]
            result = ghost.cleanup()
            removed += result.images_removed + result.containers_removed + result.cache_records_pruned
            stale.done(removed_all=not result.leftovers)
        return removed

    # -- BuildKit ----------------------------------------------------------

    def note_buildkit_build(self, text: str) -> None:
        """Called before each BuildKit build of `text`, so that its cache records can be told from others."""
        if self.cache_before is None:
            records = buildkit.cache_records(self)
            self.cache_before = frozenset(records or ())
        for command in run_commands(text):
            if command not in self.cache_commands:
                self.cache_commands.append(command)

    def note_buildkit_done(self, wall_start: float, step_names: list[str]) -> None:
        self.cache_windows.append((wall_start, time.time()))
        self.cache_names.extend(n for n in step_names if n not in self.cache_names)
        self._record()

    # -- cleanup -----------------------------------------------------------

    def _settle(self, quiet: float = 1.5, limit: float = 20.0) -> None:
        """After an interrupted build, wait until the daemon stops adding to it.

        A classic build that loses its client finishes the step in flight
        (a COPY commits its image) before it notices; that image is a child
        of one of ours but was never named in the log we read.  Likewise an
        interrupted BuildKit export may still write its (labelled) image.  So:
        adopt children of our images and containers made from them, until
        nothing new has appeared for `quiet` seconds.
        """
        label = f"{RUN_LABEL}={self.run_id}"
        end = time.monotonic() + limit
        last_change = time.monotonic()
        while time.monotonic() < end:
            before = (len(self.images), len(self.containers))
            try:
                rows = self.client.api.images(all=True)
                labelled = set(self._images(label))
                containers = self.client.api.containers(all=True)
            except TRANSPORT_ERRORS:
                return
            self._adopt(rows, labelled, containers)
            if (len(self.images), len(self.containers)) != before:
                last_change = time.monotonic()
            elif time.monotonic() - last_change >= quiet:
                return
            time.sleep(0.3)

    def _adopt(self, rows: list[dict[str, Any]], labelled: set[str], containers: list[dict[str, Any]]) -> None:
        """Track the labelled images, the descendants of our images among `rows`, and the
        containers made from any of them."""
        mine = {t.split(":")[-1][:12] for t in self.images}
        ours = {r["Id"] for r in rows if r["Id"].split(":")[-1][:12] in mine} | labelled
        grew = True
        while grew:      # children, grandchildren, ... in creation order
            grew = False
            for r in sorted(rows, key=lambda r: r.get("Created", 0)):
                if r["Id"] not in ours and r.get("ParentId") in ours:
                    ours.add(r["Id"])
                    self.track_image(r["Id"])
                    grew = True
        for iid in labelled:
            self.track_image(iid)
        for c in containers:
            if c.get("ImageID") in ours:
                self.track_container(c["Id"])

    def cleanup(self) -> Cleanup:
        """Remove every container, image and cache record of this run; report leftovers."""
        containers = images = pruned = 0
        label = f"{RUN_LABEL}={self.run_id}"
        if self.interrupted:
            self._settle()

        ids = list(self.containers)
        with contextlib.suppress(*TRANSPORT_ERRORS):
            ids += self._containers(label)
        for cid in dict.fromkeys(ids):
            try:
                self.client.api.remove_container(cid, force=True, v=True)
                containers += 1
            except docker.errors.NotFound:
                pass
            except TRANSPORT_ERRORS:
                pass

        # Children before parents: the classic builder chains each step's image
        # on the previous one, and an image with children cannot be removed.
        ids = list(reversed(self.images))
        with contextlib.suppress(*TRANSPORT_ERRORS):
            ids = self._images(label) + ids
        for iid in dict.fromkeys(ids):
            try:
                deleted = self.client.api.remove_image(iid, force=False, noprune=False)
                images += sum(1 for d in deleted or [] if "Deleted" in d)
            except docker.errors.NotFound:
                pass  # already gone as an untagged parent of an image removed before
            except TRANSPORT_ERRORS:
                pass

        pruned = self._prune_build_cache()
        left = tuple(self.leftovers())
        if self._journal is not None:
            self._journal.close(keep=bool(left))
            self._journal = None
        return Cleanup(images_removed=images, containers_removed=containers,
                       cache_records_pruned=pruned, leftovers=left)

    # The low-level list calls return ids only; the high-level ones inspect
    # every image, which takes seconds on a busy engine.
    def _images(self, label: str | None = None) -> list[str]:
        filters = {"label": label} if label else None
        return list(self.client.api.images(all=True, quiet=True, filters=filters))

    def _containers(self, label: str) -> list[str]:
        return [c["Id"] for c in self.client.api.containers(all=True, filters={"label": label})]

    def leftovers(self) -> list[str]:
        label = f"{RUN_LABEL}={self.run_id}"
        out: list[str] = []
        try:
            out += [f"container {c[:12]}" for c in self._containers(label)]
            out += [f"image {i.split(':')[-1][:12]}" for i in self._images(label)]
            # tracked ids may be the 12-digit short form the classic builder prints
            present = {i.split(":")[-1] for i in self._images()}
            for tracked in self.images:
                short = tracked.split(":")[-1][:12]
                entry = f"image {short}"
                if entry not in out and any(p.startswith(short) for p in present):
                    out.append(entry)
        except TRANSPORT_ERRORS as exc:
            out.append(f"(could not list: {exc})")
        return out

    def _prune_build_cache(self) -> int:
        """Prune the BuildKit cache records our builds made.

        The engine's `label` filter for build cache is accepted but ignored
        (moby leaves it as a TODO), so pruning "by label" would prune
        everybody's cache.  Records are instead chosen by id: created during
        one of our builds, absent before the first one, not in use, and
        ours by what they describe (see own_records()).
        """
        if self.cache_before is None or not self.cache_windows:
            return 0
        pruned = 0
        # an interrupted build may hold its records a moment longer: wait for them, briefly
        deadline = time.monotonic() + (15.0 if self.interrupted else 0.0)
        while True:
            records = buildkit.cache_records(self)
            if not records:
                return pruned
            mine = own_records(records.values(), self.cache_before, self.cache_windows, self.cache_names,
                               self.cache_commands)
            free = [r.id for r in mine if not r.in_use]
            if free:
                pruned += buildkit.prune_records(self, free)
            if len(free) == len(mine) or time.monotonic() > deadline:
                return pruned
            time.sleep(0.5)


def _run_command(step: str) -> str | None:
    """The command a RUN step name runs, as a cache record describes it (`... from exec <command>`)."""
    m = re.match(r"(?is)^RUN\s+(.*)$", step)
    if not m:
        return None
    words = m.group(1).split(" ")
    while words and words[0].startswith("--"):
        words.pop(0)
    command = " ".join(words).strip()
    heredoc = re.match(r"^<<-?\S+\s+\((.*?)\)?$", command, re.S)
    if heredoc:
        return heredoc.group(1).split("\n", 1)[0]
    if command.startswith("["):
        try:
            return " ".join(str(w) for w in json.loads(command))
        except ValueError:
            return command
    return command


def run_commands(text: str) -> list[str]:
    """The commands of the file's RUN instructions as BuildKit hands them to the shell (build args unexpanded)."""
    from ..syntax import ParseError, parse

    try:
        tree = parse(text)
    except (ParseError, ValueError):
        return []
    out = []
    for instruction in tree.instructions:
        if instruction.keyword.upper() != "RUN":
            continue
        command = " ".join(instruction.values) if instruction.is_json else instruction.command
        if command and command.startswith("<<") and instruction.heredocs:
            # a RUN that is only a heredoc runs its body as the shell's script
            out.append(instruction.heredocs[0].content)
        elif command:
            out.append(command)
    return out


def record_kind(description: str, step_names: list[str], commands: list[str] | tuple[str, ...] = ()) -> str | None:
    """What a cache record with this description is to a run with these steps (BuildKit vertex names)
    and RUN commands (as the files write them: BuildKit describes records before expanding build args).

    "run": the result (or cache mount) of one of its RUN commands; "step": named like one of its
    other steps (`[3/4] COPY . .`: other builds have steps of that name too); "source": a local
    source (context or Dockerfile) a build sent; None: not the run's.
    """
    if description.startswith(("local source for ", "from local")):
        return "source"
    if " from exec " in description and any(description.endswith(c) for c in commands):
        return "run"
    for name in step_names:
        step = re.sub(r"^\[[^\]]*\] ", "", name)
        command = _run_command(step)
        if command and " from exec " in description and (
                description.endswith(command) or (step.startswith("RUN <<") and command in description)):
            return "run"
    return "step" if description in step_names else None


def ours(description: str, step_names: list[str], commands: list[str] | tuple[str, ...] = ()) -> bool:
    return record_kind(description, step_names, commands) is not None


def own_records(records: Iterable[buildkit.CacheRecord], before: frozenset[str],
                windows: list[tuple[float, float]], step_names: list[str],
                commands: list[str] | tuple[str, ...]) -> list[buildkit.CacheRecord]:
    """The records a run made: new since it started, created during one of its builds, and its own.

    Records of its RUN commands and the local sources it sent are its own.  A record merely named
    like one of its steps (`[3/4] COPY . .`) is its own only when it hangs together with those:
    its parent or a child is one of the run's records.  A build running at the same time with a
    step of that name keeps its record.
    """
    fresh = [r for r in records
             if r.id not in before and r.created is not None
             and any(a - 2 <= r.created <= b + 2 for a, b in windows)]
    kinds = {r.id: record_kind(r.description, step_names, commands) for r in fresh}
    mine = {rid for rid, kind in kinds.items() if kind in ("run", "source")}
    named = [r for r in fresh if kinds[r.id] == "step"]
    grew = True
    while grew:
        grew = False
        for r in named:
            if r.id in mine:
                continue
            if any(p in mine for p in r.parents) or any(r.id in o.parents for o in fresh if o.id in mine):
                mine.add(r.id)
                grew = True
    return [r for r in fresh if r.id in mine]


def connect(*, host: str | None = None, api_timeout: float = API_TIMEOUT) -> Engine:
    """Connect to `host` (default: what DOCKER_HOST names); raise EngineUnavailable quickly if none."""
    host = host or engine_host()
    try:
        # Both ask the engine for its API version right away, bounded by the
        # short connect timeout; later calls get the longer API timeout.
        if host == engine_host():
            client = docker.from_env(timeout=CONNECT_TIMEOUT)     # honours DOCKER_TLS_VERIFY etc.
        else:
            client = docker.DockerClient(base_url=host, timeout=CONNECT_TIMEOUT)
        client.ping()
        info = client.version()
        details = client.info()
    except TRANSPORT_ERRORS as exc:
        raise _unavailable(host, exc) from None
    client.api.timeout = api_timeout
    run_id = uuid.uuid4().hex
    RUN_IDS.append(run_id)
    engine_id = str(details.get("ID") or host)
    return Engine(client=client, host=host, version=str(info.get("Version", "?")),
                  api_version=str(info.get("ApiVersion", "?")), run_id=run_id, engine_id=engine_id,
                  data_root=str(details.get("DockerRootDir") or ""),
                  _journal=journal.Journal(engine_id, run_id))
