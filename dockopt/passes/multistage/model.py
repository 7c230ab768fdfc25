"""The single build stage the split reads: where it works, what it copies in, what its RUNs run,
where the files they make end up, and what the image runs — read from the facts layer."""
from __future__ import annotations

import posixpath
from dataclasses import dataclass

from ...ecosystems.common import Project
from ...facts import images
from ...facts.files import ContextFiles
from ...facts.paths import clean, is_under, join
from ...facts.variables import expand
from ...shell import SimpleCommand, parse_copy, parse_rm, parse_script
from ...syntax import Instruction, Stage
from ..base import Context

__all__ = ["ContextCopy", "Entry", "Output", "RunCommand", "StageModel", "model_stage", "moves", "removed_paths",
           "run_commands", "shell_commands"]


@dataclass
class ContextCopy:
    ins: Instruction
    sources: tuple[str, ...]
    dest: str | None          # absolute, None when it cannot be resolved
    dest_is_dir: bool




@dataclass
class Output:
    """A file or directory a build command leaves in the builder's filesystem."""

    path: str                 # absolute
    language: str
    ins: Instruction          # the RUN that makes it
    what: str                 # "binary", "dir", "jar", "jars", "file"
    lineage: int              # outputs copied from one another share a lineage
    order: int = 0
    glob: bool = False        # path holds a wildcard (target/*.jar)




@dataclass
class Entry:
    """What the image runs: ENTRYPOINT + CMD, as exec argv or as a shell command."""

    entrypoint: Instruction | None
    cmd: Instruction | None
    argv: list[str] | None     # exec form, ENTRYPOINT and CMD joined
    shell: str | None          # shell form text (run by /bin/sh -c)

    @property
    def present(self) -> bool:
        return self.entrypoint is not None or self.cmd is not None

    def commands(self) -> list[list[str]]:
        """Each command the entry runs, as argv (shell form parsed; dynamic words kept as '$')."""
        if self.argv is not None:
            if len(self.argv) >= 3 and posixpath.basename(self.argv[0]) in ("sh", "bash") and self.argv[1] == "-c":
                return shell_commands(self.argv[2])
            return [self.argv]
        if self.shell is not None:
            return shell_commands(self.shell)
        return []

    @property
    def needs_shell(self) -> bool:
        if self.shell is not None:
            return True
        return self.argv is not None and bool(self.argv) \
            and posixpath.basename(self.argv[0]) in ("sh", "bash", "/bin/sh")

def shell_commands(text: str) -> list[list[str]]:
    script = parse_script(text)
    out = []
    for c in script.commands:
        if c.name_index is None:
            continue
        out.append([w.text if w.text is not None else "$" for w in c.argv[c.name_index:]])
    return out




@dataclass
class StageModel:
    stage: Stage
    base: str                              # the base image, ARGs expanded
    env: dict[str, str | None]             # ENV/ARG values in force at the end (None: unknown)
    args: dict[str, Instruction]           # ARG declarations of the stage, by name
    workdir: str | None                    # final WORKDIR (None when it holds unknown variables)
    workdir_set: bool                      # the Dockerfile sets a WORKDIR
    workdirs: dict[int, str | None]        # id(instruction) -> WORKDIR in force
    users: dict[int, str | None]           # id(instruction) -> USER in force
    user: str | None                       # final USER (None: the base's default)
    copies: list[ContextCopy]
    entry: Entry
    healthcheck: Instruction | None
    path_dirs: tuple[str, ...]

    files: ContextFiles

    @property
    def project(self) -> Project:
        """The build context as the stage's build commands see it."""
        return Project(self.files, self.context_path, self.env)

    def _is_dir_source(self, src_rel: str) -> bool:
        if src_rel == ".":
            return True
        if self.files.exists(src_rel):
            return (self.files.root / src_rel).is_dir()
        base = posixpath.basename(src_rel)
        return "." not in base and base not in ("Makefile", "Dockerfile", "LICENSE", "Gemfile", "Pipfile")

    def context_path(self, image_path: str) -> str | None:
        """The build-context path that a file at `image_path` was copied from (last COPY wins)."""
        for copy in reversed(self.copies):
            if copy.dest is None:
                continue
            for src in copy.sources:
                found = self._copied_from(copy, copy.dest, src, image_path)
                if found is not None:
                    return found
        return None

    def _copied_from(self, copy: ContextCopy, dest: str, src: str, image_path: str) -> str | None:
        """The context path of `image_path` if this source of the copy put it there."""
        src_rel = clean(src).lstrip("/") or "."
        if src_rel.startswith(".."):
            return None
        source_dir = posixpath.dirname(src_rel) or "."
        if any(ch in src for ch in "*?["):
            return source_dir if copy.dest_is_dir and image_path == dest else None
        if self._is_dir_source(src_rel):
            # a directory source copies its contents into the destination
            if not is_under(image_path, dest):
                return None
            rel = posixpath.relpath(image_path, dest)
            return src_rel if rel == "." else clean(posixpath.join(src_rel, rel))
        file_dest = posixpath.join(dest, posixpath.basename(src_rel)) if copy.dest_is_dir else dest
        if image_path == file_dest:
            return src_rel
        return source_dir if copy.dest_is_dir and image_path == dest else None


def model_stage(ctx: Context, stage: Stage) -> StageModel:
    """The stage as the facts layer reads it, in the shape the split works with."""
    end = ctx.end_state(stage)
    args: dict[str, Instruction] = {}
    workdirs: dict[int, str | None] = {}
    users: dict[int, str | None] = {}
    copies: list[ContextCopy] = []
    entrypoint = cmd = healthcheck = None
    for ins in stage.instructions:
        state = ctx.state(ins)
        workdirs[id(ins)] = state.cwd
        users[id(ins)] = state.user if state.user is None or "$" not in state.user else None
        kw = ins.keyword
        if kw == "ARG":
            for val in ins.values:
                args[val.partition("=")[0]] = ins
        elif kw in ("COPY", "ADD") and ins.flag("from") is None:
            vals = list(ins.values)
            if len(vals) >= 2:
                dest_raw = expand(vals[-1], state.values)
                dest = join(state.cwd, dest_raw) if dest_raw is not None else None
                dest_is_dir = bool(dest_raw and (dest_raw.endswith("/") or len(vals) > 2 or dest_raw in (".", "./")))
                copies.append(ContextCopy(ins, tuple(vals[:-1]), dest, dest_is_dir))
        elif kw == "ENTRYPOINT":
            entrypoint = ins
            cmd = None  # an ENTRYPOINT resets the CMD inherited so far
        elif kw == "CMD":
            cmd = ins
        elif kw == "HEALTHCHECK":
            healthcheck = ins
    path = end.value("PATH")
    path_dirs = tuple(p for p in path.split(":") if p) if path else images.DEFAULT_PATH
    return StageModel(stage, ctx.graph.base_image(stage), end.values, args, end.cwd,
                      any(i.keyword == "WORKDIR" for i in stage.instructions), workdirs, users, end.user,
                      copies, _entry(entrypoint, cmd), healthcheck, path_dirs, ctx.files)

def _entry(entrypoint: Instruction | None, cmd: Instruction | None) -> Entry:
    if entrypoint is not None:
        if entrypoint.is_json:
            argv = list(entrypoint.values)
            if cmd is not None and cmd.is_json:
                argv += list(cmd.values)
            elif cmd is not None:
                argv += ["/bin/sh", "-c", cmd.args]
            return Entry(entrypoint, cmd, argv, None)
        return Entry(entrypoint, cmd, None, entrypoint.args)
    if cmd is not None:
        if cmd.is_json:
            return Entry(None, cmd, list(cmd.values), None)
        return Entry(None, cmd, None, cmd.args)
    return Entry(None, None, None, None)


# --------------------------------------------------------------------------- RUN walking



@dataclass
class RunCommand:
    ins: Instruction
    command: SimpleCommand
    cwd: str | None
    env: dict[str, str | None]

def run_commands(ctx: Context, model: StageModel) -> list[RunCommand]:
    """Every simple command of the stage's RUNs, in order, with the directory it runs in."""
    return [RunCommand(ins, step.command, step.cwd, dict(step.env))
            for ins in model.stage.instructions if ins.keyword == "RUN" for step in ctx.steps(ins)]


def moves(rc: RunCommand) -> list[tuple[str, str, str]]:
    """(kind, source, destination) of a cp/mv/install/ln with static operands, as image paths."""
    copy = parse_copy(rc.command)
    if copy is None:
        return []
    out = []
    for s, d in copy.pairs:
        src, dst = join(rc.cwd, s), join(rc.cwd, d)
        if src and dst:
            out.append((copy.program, src, dst))
    return out


def removed_paths(rc: RunCommand) -> list[str]:
    """What an `rm` deletes (paths with globs left out)."""
    rm = parse_rm(rc.command)
    if rm is None:
        return []
    out = []
    for t in rm.path_texts:
        p = join(rc.cwd, t) if t else None
        if p and not any(ch in p for ch in "*?["):
            out.append(p)
    return out
