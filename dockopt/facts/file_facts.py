"""`FileFacts`: the facts of one Dockerfile and its build context, each computed once, on demand."""
from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..shell import CommandEffects, PathUse, Script, ToolCommand, command_effects, parse_script
from ..shell.words import glob_base
from ..syntax import Dockerfile, Instruction, Stage
from .effects import (
    Access,
    ContextRead,
    Effects,
    PackageChange,
    Step,
    copy_operands,
    describe_metadata,
    destination_is_directory,
    env_references,
    owner_reads,
    package_changes,
    resolve_uses,
    run_steps,
    uses_cwd,
)
from .files import ContextFiles, context_files
from .mounts import Mount, parse_mounts
from .paths import clean, created_parents, is_remote, is_under, join, relative
from .rebuild import RebuildModel
from .scripts import RunScript, run_script
from .stages import StageGraph, global_args
from .state import State, advance, compute_states, home_of
from .variables import expand

__all__ = ["FileFacts"]

_ARCHIVES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst")
# a RUN whose text may run `ln` (the script is read only then)
_MAY_LINK = re.compile(r"(?<![\w.-])ln(?![\w.-])")


def _always(_path: str) -> bool:
    return True


@dataclass(eq=False)
class FileFacts:
    """Everything dockopt knows about one Dockerfile, computed the first time it is asked for.

    `pending_files` are the side files (path -> text) that earlier fixes of this run will write;
    the build-context view (`files`) applies a pending `.dockerignore`."""

    tree: Dockerfile
    path: Path | None = None
    context_dir: Path | None = None
    pending_files: dict[str, str] = field(default_factory=dict)
    _memos: dict[str, dict[Any, Any]] = field(default_factory=dict, repr=False)

    def memo(self, name: str) -> dict[Any, Any]:
        """A cache of this file's facts (or of a pass's own answers) under `name`: the one place
        anything computed once per file is kept."""
        return self._memos.setdefault(name, {})

    # -- the stage graph and the state at each instruction ----------------------------------------
    @cached_property
    def graph(self) -> StageGraph:
        return StageGraph(self.tree, global_args(self.tree))

    @cached_property
    def _states(self) -> tuple[dict[int, State], dict[int, State]]:
        return compute_states(self.graph)

    def stage(self, ins: Instruction) -> Stage | None:
        return self.graph.stage_of(ins)

    def state(self, ins: Instruction) -> State:
        """What `ins` sees when it runs (variables, working directory, user, shell)."""
        found = self._states[0].get(id(ins))
        if found is None:
            raise KeyError(f"{ins!r} is not an instruction of this file")
        return found

    def end_state(self, stage: Stage) -> State:
        """What the stage leaves behind (and a stage built FROM it starts with)."""
        return self._states[1][stage.index]

    # -- the build context ----------------------------------------------------------------------------
    @cached_property
    def files(self) -> ContextFiles:
        """The build context as this run sees it (every answer False/None without one)."""
        return context_files(self.context_dir, self.path, self.pending_files)

    @cached_property
    def rebuild(self) -> RebuildModel:
        """What a rebuild of the final stage re-runs after a context file changes (`facts.rebuild`)."""
        files = self.files
        return RebuildModel(self.graph, self.inputs, files.is_sent if files.available else _always)

    def inputs(self, ins: Instruction) -> Effects:
        """What an instruction takes in from the build context and from other stages, without
        reading a RUN's script (its bind mounts say it): what the rebuild model needs, cheaply.
        The full effects when they are known already."""
        cache = self.memo("effects")
        if id(ins) in cache or ins.keyword != "RUN" or self.stage(ins) is None:
            return self.effects(ins)
        context_reads, stage_reads = self._mount_reads(ins)
        return Effects(ins, context_reads, stage_reads)

    # -- RUN scripts ---------------------------------------------------------------------------------
    def mounts(self, ins: Instruction) -> tuple[Mount, ...]:
        cache = self.memo("mounts")
        if id(ins) not in cache:
            cache[id(ins)] = parse_mounts(ins)
        found: tuple[Mount, ...] = cache[id(ins)]
        return found

    def run_script(self, ins: Instruction) -> tuple[RunScript | None, str]:
        """The script a RUN runs in a POSIX shell, or None and the reason it is not read."""
        if ins.keyword != "RUN" or self.stage(ins) is None:
            return None, "not a RUN of a stage"
        return run_script(ins, self.state(ins).shell_kind)

    def script(self, ins: Instruction) -> Script | None:
        """The parsed shell script of a RUN (dockopt.shell), None when it is not read."""
        cache = self.memo("script")
        if id(ins) not in cache:
            rs, _reason = self.run_script(ins)
            cache[id(ins)] = parse_script(rs.text) if rs is not None else None
        found: Script | None = cache[id(ins)]
        return found

    def steps(self, ins: Instruction) -> tuple[Step, ...]:
        """The commands of a RUN (exec form read as one command), each with where it runs and what
        it does to files."""
        cache = self.memo("steps")
        if id(ins) not in cache:
            cache[id(ins)] = self._steps(ins)
        found: tuple[Step, ...] = cache[id(ins)]
        return found

    def _run_commands_script(self, ins: Instruction) -> Script | None:
        script = self.script(ins)
        if script is None and ins.keyword == "RUN" and ins.is_json and ins.values:
            return parse_script(shlex.join(ins.values))
        return script

    def _steps(self, ins: Instruction) -> tuple[Step, ...]:
        script = self._run_commands_script(ins)
        if script is None or self.stage(ins) is None:
            return ()
        mounts = self.mounts(ins)
        state = self.state(ins)
        out = []
        for command, cwd, env, temporary in run_steps(script, state):
            effects = command_effects(command)
            if not effects.modelled and effects.tool is not None:
                effects = self._installer(effects, effects.tool, cwd, env)
            home = home_of(env, state.user_is_root)
            reads, bad_r = resolve_uses(effects.reads, cwd, mounts, home)
            writes, bad_w = resolve_uses(effects.writes, cwd, mounts, home)
            deletes, bad_d = resolve_uses(effects.deletes, cwd, mounts, home)
            out.append(Step(command, cwd, env, effects, reads, writes, deletes, bad_r or bad_w or bad_d, temporary,
                            home))
        return tuple(out)

    def _installer(self, effects: CommandEffects, tool: ToolCommand, cwd: str | None,
                   env: dict[str, str | None]) -> CommandEffects:
        if any(word.text is None for word in effects.command.args):
            return effects     # a word only known at build time (`-r "$d/requirements.txt"`) may name a file it reads
        found = self.installer_effects(tool, cwd, env)
        if found is None:
            return effects
        reads, writes = found
        return CommandEffects(effects.command, effects.reads + reads, effects.writes + writes, effects.deletes,
                              tool)

    def installer_effects(self, tool: ToolCommand, cwd: str | None, env: dict[str, str | None]
                          ) -> tuple[tuple[PathUse, ...], tuple[PathUse, ...]] | None:
        """(reads, writes) of a language's dependency installer; None: not modelled. The layer
        that knows the ecosystems answers (see `dockopt.ecosystems`)."""
        return None

    # -- what each instruction reads and writes ------------------------------------------------------
    def effects(self, ins: Instruction) -> Effects:
        cache = self.memo("effects")
        if id(ins) not in cache:
            cache[id(ins)] = self._effects(ins)
        found: Effects = cache[id(ins)]
        return found

    def _effects(self, ins: Instruction) -> Effects:
        env_reads = env_references(ins)
        if self.stage(ins) is None:
            return Effects(ins, env_reads=env_reads, unmodelled=("not in a stage",) if ins.keyword != "ARG" else ())
        kw = ins.keyword
        if kw == "RUN":
            return self._run_effects(ins, env_reads)
        if kw in ("COPY", "ADD"):
            return self._copy_effects(ins, env_reads)
        if kw == "WORKDIR":
            cwd = self.state(ins).cwd
            after = advance(self.graph, self.state(ins), ins).cwd
            if after is None:
                return Effects(ins, env_reads=env_reads, unmodelled=("the directory is only known at build time",))
            return Effects(ins, writes=(Access(after, "WORKDIR"),), env_reads=env_reads) if after != cwd else \
                Effects(ins, env_reads=env_reads)
        if describe_metadata(ins):
            return Effects(ins, env_reads=env_reads)
        return Effects(ins, env_reads=env_reads, unmodelled=(f"{kw} is not a known instruction",))

    def _run_effects(self, ins: Instruction, env_reads: frozenset[str]) -> Effects:
        script = self._run_commands_script(ins)
        if script is None:
            _rs, reason = self.run_script(ins)
            return Effects(ins, env_reads=env_reads, unmodelled=(reason,))
        context_reads, stage_reads = self._mount_reads(ins)
        unmodelled: list[str] = []
        if script.has_error:
            unmodelled.append("the script does not parse")
        reads: list[Access] = []
        writes: list[Access] = []
        deletes: list[Access] = []
        packages: list[PackageChange] = []
        for step in self.steps(ins):
            if not step.effects.modelled:
                unmodelled.append(step.effects.reason)
            elif step.unresolved:
                unmodelled.append(f"a path `{step.command.program}` uses is only known at build time")
            reads += step.reads
            writes += step.writes
            deletes += step.deletes
            if step.effects.tool is not None:
                packages += package_changes(step.effects.tool)
        globbed, relative_glob = self._glob_reads(script, self.steps(ins), self.state(ins).cwd)
        if globbed is None:
            unmodelled.append("a glob lists a directory only known at build time")
        else:
            reads += globbed
        return Effects(ins, context_reads, stage_reads, tuple(reads), tuple(writes), tuple(deletes),
                       tuple(packages), env_reads, tuple(dict.fromkeys(unmodelled)),
                       uses_cwd=uses_cwd(self.steps(ins)) or relative_glob)

    @staticmethod
    def _glob_reads(script: Script, steps: tuple[Step, ...], start_cwd: str | None
                    ) -> tuple[list[Access] | None, bool]:
        """The directories the script's globs list (`for f in conf/*.conf`, `echo *`): what they
        expand to depends on what is there. None when one is only known at build time; and
        whether one is relative to the working directory."""
        out: list[Access] = []
        relative_glob = False
        words = [(w, step.cwd) for step in steps for w in step.command.args]
        for loop in script.for_loops:
            cwd = next((step.cwd for step in steps if step.command.start >= loop.start), start_cwd)
            words += [(w, cwd) for w in loop.words]
        for word, cwd in words:
            is_glob, base = glob_base(word)
            if not is_glob:
                continue
            path = join(cwd, base) if base is not None else None
            if base is None or path is None:
                return None, True
            relative_glob = relative_glob or not base.startswith("/")
            out.append(Access(path, "glob", "", True))
        return out, relative_glob

    def _mount_reads(self, ins: Instruction) -> tuple[tuple[ContextRead, ...], tuple[tuple[str, str], ...]]:
        """The build context and stage paths a RUN's bind mounts take in."""
        context_reads: list[ContextRead] = []
        stage_reads: list[tuple[str, str]] = []
        for m in self.mounts(ins):
            if m.type != "bind":
                continue
            source = clean((m.source or ".").lstrip("/") or ".")
            if m.from_:
                stage_reads.append((m.from_, "/" + source if source != "." else "/"))
            else:
                context_reads.append(ContextRead(source, self._matches(source)))
        return tuple(context_reads), tuple(stage_reads)

    def context_origin(self, ins: Instruction, path: str) -> str | None:
        """The build-context path whose copy sits at image `path` when `ins` runs: from a bind
        mount of `ins`, else from the last COPY/ADD of the context (in its stage or those it is built
        on) whose destination is `path` or a directory above it. Found from the instructions alone
        (the context need not be at hand); None when no COPY of the context put it there."""
        for m in self.mounts(ins):
            if m.reads_context and m.target and is_under(path, m.target):
                return self._origin_in(clean((m.source or ".").lstrip("/") or "."), True, path, m.target)
        for earlier in reversed(self.graph.before(ins)):
            if earlier.keyword not in ("COPY", "ADD") or earlier.flag("from") is not None:
                continue
            effects = self.effects(earlier)
            for write in effects.writes:
                if not is_under(path, write.path):
                    continue
                for read in effects.context_reads:
                    found = self._origin_in(read.source, write.tree, path, write.path)
                    if found is not None:
                        return found
        return None

    def entries_in(self, stage: Stage, directory: str) -> dict[str, tuple[str | None, Instruction]] | None:
        """The names directly in image `directory` that the stage's COPY/ADD of the build context
        put there, each with the context path it is a copy of (None when the copy only put something
        inside it: `COPY a.json ./config/`) and the COPY (a later copy wins). None when that
        cannot be told: no build context, a copy whose source or destination is not known, a
        remote ADD, or a copy over `directory` too large to list."""
        files = self.files
        if not files.available:
            return None
        out: dict[str, tuple[str | None, Instruction]] = {}
        for ins in stage.instructions:
            if ins.keyword not in ("COPY", "ADD") or ins.flag("from") is not None:
                continue
            effects = self.effects(ins)
            if ins.heredocs or (effects.writes and not any(
                    is_under(w.path, directory) or is_under(directory, w.path) for w in effects.writes)):
                continue      # writes elsewhere (or text of its own)
            if not effects.modelled or len(effects.writes) != 1:
                return None
            write = effects.writes[0]
            for read in effects.context_reads:
                if read.matches is None or (ins.keyword == "ADD" and read.source.endswith(_ARCHIVES)):
                    return None
                for match in read.matches:
                    landed = self._landed(match, write, directory)
                    if landed is None:
                        return None
                    out.update({name: (source, ins) for name, source in landed.items()})
        return out

    def _landed(self, match: str, write: Access, directory: str) -> dict[str, str | None] | None:
        """What one sent context path, copied by `write`, puts directly in `directory`."""
        files = self.files
        is_dir = match == "." or (files.is_dir(match) and not files.is_symlink(match))
        # a directory's contents land at the destination; a file lands in it (or as it)
        at = write.path if is_dir or not write.tree else join(write.path, posixpath.basename(match)) or write.path
        if is_under(at, directory) and at != directory:
            name = relative(at, directory).split("/", 1)[0]
            return {name: match if at == join(directory, name) else None}
        if not is_dir or not is_under(directory, at):
            return {}
        inner = relative(directory, at)
        source = match if inner == "." else (clean(f"{match}/{inner}") if match != "." else clean(inner))
        if source != "." and not files.is_dir(source):
            return {}
        names = files.sent_children(source)
        if names is None:
            return None
        return {n: (clean(f"{source}/{n}") if source != "." else n) for n in names}

    def _origin_in(self, source: str, into: bool, path: str, dest: str) -> str | None:
        """The context path of image `path` when `source` was copied to `dest` (into it: `into`)."""
        if path == dest:
            return None if into else source
        rel = relative(path, dest)
        if posixpath.basename(source) == rel and not (self.files.available and self.files.is_dir(source)):
            return source      # a file copied into the directory
        candidate = clean(f"{source}/{rel}") if source != "." else clean(rel)
        if not self.files.available or self.files.exists(candidate):
            return candidate
        return None

    def _symlinked(self, ins: Instruction, dest: str) -> bool:
        """An earlier `ln` of the image made a link at `dest` or a directory above it: the
        copy then writes where the link points."""
        links = self.memo("links")
        for earlier in self.graph.before(ins):
            if earlier.keyword != "RUN":
                continue
            if id(earlier) not in links:
                links[id(earlier)] = tuple(w.path for step in self.steps(earlier) if step.command.program == "ln"
                                           for w in step.writes) if _MAY_LINK.search(earlier.full_source) else ()
            if any(is_under(dest, link) for link in links[id(earlier)]):
                return True
        return False

    def copies_directory(self, source: str) -> bool:
        """A COPY source that is a directory of the context (its contents land under the
        destination): the whole context, a source ending in '/', or a directory that is sent."""
        if source.endswith(("/", "/.")) or clean(source.lstrip("/") or ".") == ".":
            return True
        return self.files.available and self.files.is_dir(clean(source.lstrip("/")))

    def _matches(self, source: str) -> tuple[str, ...] | None:
        files = self.files
        return tuple(files.glob(source)) if files.available else None

    def _copy_effects(self, ins: Instruction, env_reads: frozenset[str]) -> Effects:
        state = self.state(ins)
        operands = copy_operands(ins)
        if operands is None:
            if ins.heredocs and ins.values:
                dest = join(state.cwd, expand(ins.values[-1], state.values))
                if dest is not None:
                    return Effects(ins, reads=owner_reads(ins), writes=(Access(dest, ins.keyword, tree=True),),
                                   env_reads=env_reads)
            return Effects(ins, env_reads=env_reads, unmodelled=(f"cannot read the {ins.keyword}'s operands",))
        sources, dest_text = operands
        dest = join(state.cwd, expand(dest_text, state.values))
        if dest is None:
            return Effects(ins, env_reads=env_reads, unmodelled=("the destination is only known at build time",))
        from_flag = ins.flag("from")
        context_reads: list[ContextRead] = []
        stage_reads: list[tuple[str, str]] = []
        for source in sources:
            if from_flag is not None and from_flag.value:
                stage_reads.append((from_flag.value, source))
            elif not is_remote(source):
                cleaned = clean(source.lstrip("/") or ".")
                context_reads.append(ContextRead(cleaned, self._matches(source)))
        if self._symlinked(ins, dest):
            return Effects(ins, tuple(context_reads), tuple(stage_reads), env_reads=env_reads,
                           unmodelled=(f"an earlier RUN makes a symbolic link at or above {dest}",))
        into = destination_is_directory(sources, dest_text)
        tree = into or ins.keyword == "ADD" or (
            from_flag is None and any(self.copies_directory(src) for src in sources if not is_remote(src)))
        write = Access(dest, ins.keyword, tree=tree)
        cwd = state.cwd
        created = tuple(p for p in created_parents(dest) if cwd is None or not is_under(cwd, p))
        return Effects(ins, tuple(context_reads), tuple(stage_reads), reads=owner_reads(ins), writes=(write,),
                       env_reads=env_reads, created=created)
