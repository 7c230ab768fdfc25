"""Package and build caches kept in the image or deleted on every build, where a BuildKit cache
mount would keep them on the builder.

## What it does
Finds a `RUN` that downloads packages or builds with a tool that keeps a cache — apt, pip,
Poetry, uv, npm, yarn, pnpm, Go (module and build cache), Cargo (registry), Maven (local
repository), Gradle (caches) — and either leaves that cache in the layer or deletes it
(`--no-cache-dir`, `npm cache clean --force`, `rm -rf /var/lib/apt/lists/*`, `apt-get clean`).
It adds a cache mount on the directory the tool really uses and drops the cleanups the mount
makes useless:

* the directory comes from the state at the `RUN`: `PIP_CACHE_DIR`, `npm_config_cache`,
  `YARN_CACHE_FOLDER`, `GOCACHE`/`GOMODCACHE`/`GOPATH`, `CARGO_HOME`, `GRADLE_USER_HOME`, then
  `XDG_CACHE_HOME`, then `HOME` (`/root` for root);
* apt gets `/var/cache/apt` and `/var/lib/apt/lists` (`sharing=locked`: apt locks them), and each
  `apt-get install` downloads into `/var/cache/apt/dockopt-archives/`, a directory the Debian
  and Ubuntu images' `docker-clean` hook does not empty, so the downloaded packages are kept;
* a mount that is already there but emptied by a cleanup of the same `RUN` (`--no-cache-dir`
  under a pip cache mount) gets the cleanup removed.

The project's builder is a setting: `target = "buildkit"` (the default) or `"classic"` in
`[tool.dockopt]`; a file that already uses BuildKit syntax (`# syntax=`, `RUN --mount`,
heredocs) targets BuildKit whatever the setting.

## Why is this bad?
A cache left in the layer ships with the image; a cache deleted at the end of the `RUN` keeps
the image small, but every rebuild downloads everything again. A cache mount keeps the files on
the builder, outside every layer: the image is as small as with the cleanup, and a rebuild after
a change to the dependencies only fetches what is new.

## Example
```dockerfile
FROM python:3.12-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc \\
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir -r requirements.txt
```
Use instead:
```dockerfile
FROM python:3.12-slim
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \\
    apt-get update && apt-get install -y --no-install-recommends \\
    -o Dir::Cache::Archives=/var/cache/apt/dockopt-archives/ gcc
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
```

## Fix safety
Safe when the project builds with BuildKit: the image holds the same files except the caches
and package lists. Unsafe (with the reason) when the project uses the classic builder
(`target = "classic"`), which cannot build `RUN --mount`; and for Go, Cargo, Maven and Gradle,
whose caches later builds read, when the final image runs that tool itself (`go run`, `mvn`),
which would then find its cache empty.

A `RUN` that runs as another user gets mounts owned by that user (`uid=`, `gid=`): a numeric
`USER`, or the image's own user (`node` in the Node images); HOME is then the variable's value.

Nothing is reported (the size rules DO104, DO108, DO109 still see the cache) for a `RUN` that
runs as a user whose uid the file does not show, or whose `HOME` it does not set; a cache
directory only known at build time, a cache another instruction reads (`COPY --from` of it), an
apt install that uses lists an earlier `RUN` fetched, a later `RUN` that installs from the lists
this one leaves (the lists then live in the mount, not in the layer), a cleanup that cannot be
taken out of the script; a `RUN` that deletes a cache directory itself or a directory above it
other than as a cleanup the fix takes out (`rm -rf /var/lib/apt`, `rm -rf ~/.cache`), or deletes a
path only known at build time: a mount point cannot be deleted, and the `RUN` would fail with
"Device or resource busy"; exec-form `RUN`s.

Where the fix applies, it is applied instead of DO104, DO108 and DO109 on the same `RUN`: it would
take their cleanups out again.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..ecosystems.caches import APT_ARCHIVES_KEPT, CacheUse, cache_dirs, cache_tool
from ..facts.effects import Step
from ..facts.images import user_ids
from ..facts.mounts import Mount
from ..facts.paths import is_under
from ..facts.paths import removes as path_removes
from ..findings import Edit, Finding, Fix, Safety
from ..shell import AND, Flag, SimpleCommand, ToolCommand, parse_rm, parse_tool
from ..shell.model import Word
from ..syntax import Instruction, arguments
from . import list_readers, package_runs
from .base import Context, Pass, newline_of
from .edits import continuation_indent

_BUILDKIT_SYNTAX = re.compile(r"(^|/)docker/dockerfile(-upstream)?:(1|labs)\b")
_STORES_RUN_BY_ENTRY = {"go": ("go",), "cargo": ("cargo",), "mvn": ("mvn", "mvnw", "./mvnw"),
                        "gradle": ("gradle", "gradlew", "./gradlew")}
# commands that empty a tool's cache: (program, first words of the arguments)
_CLEANERS = {
    "pip": (("pip", ("cache", "purge")), ("pip3", ("cache", "purge"))),
    "npm": (("npm", ("cache", "clean")),),
    "yarn": (("yarn", ("cache", "clean")),),
    "pnpm": (("pnpm", ("store", "prune")),),
    "uv": (("uv", ("cache", "clean")), ("uv", ("cache", "prune"))),
    "poetry": (("poetry", ("cache", "clear")),),
    "apt": (("apt-get", ("clean",)), ("apt", ("clean",)), ("apt-get", ("autoclean",))),
    "go": (("go", ("clean",)),),
}
_NO_CACHE_FLAGS = {"pip": ("--no-cache-dir", "--no-cache"), "uv": ("--no-cache", "-n")}


def opts_into_buildkit(ctx: Context) -> bool:
    """The file names a BuildKit frontend with `# syntax=`."""
    syntax = ctx.tree.syntax
    return bool(syntax and _BUILDKIT_SYNTAX.search(syntax.strip()))


def uses_buildkit_syntax(ctx: Context) -> bool:
    """The file only builds with BuildKit: `# syntax=`, a `RUN --mount` or a heredoc."""
    if opts_into_buildkit(ctx):
        return True
    return any(ins.heredocs or (ins.keyword == "RUN" and ins.flag("mount") is not None)
               for ins in ctx.tree.instructions)


def targets_buildkit(ctx: Context) -> bool:
    """The project builds this file with BuildKit: the `target` setting, or BuildKit-only syntax."""
    target = getattr(ctx.settings, "target", "buildkit") if ctx.settings is not None else "buildkit"
    return target == "buildkit" or uses_buildkit_syntax(ctx)


def cache_mount_flag(use: CacheUse, owner: tuple[int, int | None] | None = None) -> str:
    """The `--mount` flags that keep `use`'s directories (owned by `owner`'s uid and gid when the
    tool runs as another user than root)."""
    extra = ",sharing=locked" if use.tool == "apt" else ""
    if owner is None:
        return " ".join(f"--mount=type=cache,target={d}{extra}" for d in use.directories)
    # a cache of its own: one that root's RUNs created would not be writable for the user
    extra += f",uid={owner[0]}" + (f",gid={owner[1]}" if owner[1] is not None else "")
    return " ".join(f"--mount=type=cache,id={d}-uid{owner[0]},target={d}{extra}" for d in use.directories)


@dataclass
class _Need:
    """One tool's cache in one RUN: where it is, which commands use it, whether a mount holds it,
    and whom the mount must belong to (None: root)."""

    use: CacheUse
    owner: tuple[int, int | None] | None
    commands: list[SimpleCommand] = field(default_factory=list)
    mounted: bool = False


class CacheMounts(Pass):
    code = "DO112"
    name = "cache-mounts"
    summary = "Keep package and build caches in a BuildKit cache mount, not in the layer or deleted"
    fires_on = ("pip", "apt", "npm", "yarn", "pnpm", "go ", "cargo", "mvn", "gradle", "poetry", "uv ")
    # the cleanups a cache mount makes unneeded, which its fix would delete again: apt lists, pip's
    # --no-cache-dir, npm/yarn cache clean
    supersedes = ("DO104", "DO108", "DO109")

    def check(self, ctx: Context) -> Iterable[Finding]:
        buildkit = targets_buildkit(ctx)
        for _stage, info in package_runs.run_infos(ctx):
            if not info.editable:
                continue
            for need in _needs(ctx, info):
                finding = self._finding(ctx, info, need, buildkit)
                if finding is not None:
                    yield finding

    def _finding(self, ctx: Context, info: package_runs.RunInfo, need: _Need, buildkit: bool) -> Finding | None:
        use = need.use
        cleanups = _cleanup_edits(ctx, info, need)
        where = ", ".join(use.directories)
        if need.mounted:
            extra = _apt_archives_edits(ctx, info, need) if use.tool == "apt" else []
            if not cleanups and not extra:
                return None
            if cleanups is None:
                return self.finding(info.ins, f"the {use.tool} cache mount on {where} is emptied by a cleanup "
                                    "of the same RUN, which dockopt cannot remove")
            what = ("the cleanup empties the cache mount on " + where if cleanups else
                    "apt's docker-clean hook deletes the packages it downloads to the cache mount")
            return self.finding(info.ins, f"{use.tool}: {what}, so every build downloads again",
                                Fix(f"Keep the {use.tool} cache", Safety.SAFE, tuple(cleanups + extra)))
        blocker = _blocker(ctx, info, need)
        kept = "deletes it again" if cleanups else "leaves it in the layer"
        message = (f"{use.tool} downloads into {where} and this RUN {kept}: a BuildKit cache mount keeps it on "
                   "the builder, out of the image, and a rebuild fetches only what is new")
        if blocker is not None or cleanups is None:
            return None       # the size rules still see the cache; nothing to add here
        removal = _mount_point_removal(ctx, info, use)
        if removal is not None:
            # the user can make room for the mount: report it, without a fix
            return self.finding(info.ins, f"{message}; no fix: {removal}, and a mount point cannot be deleted "
                                "(the RUN would fail with 'Device or resource busy')")
        edits = [_mount_insertion(ctx, info, need), *cleanups]
        if use.tool == "apt":
            edits += _apt_archives_edits(ctx, info, need)
        reason = _unsafe_reason(ctx, info, need, buildkit)
        title = f"Use a cache mount for {use.tool}"
        if reason is not None:
            return self.finding(info.ins, f"{message} (unsafe: {reason})", Fix(title, Safety.UNSAFE, tuple(edits)))
        return self.finding(info.ins, message, Fix(title, Safety.SAFE, tuple(edits)))


# --------------------------------------------------------------------------- what a RUN needs

def _needs(ctx: Context, info: package_runs.RunInfo) -> list[_Need]:
    """Each tool of the RUN that fills a cache, with its directories (in the order they appear)."""
    state = ctx.state(info.ins)
    owner = None
    if not state.user_is_root:
        stage = ctx.stage(info.ins)
        owner = user_ids(ctx.graph.base_image(stage), state.user or "") if stage is not None else None
        if owner is None:
            return []     # a mount owned by root would not be writable for that user
    envs = {id(step.command): step.env for step in ctx.steps(info.ins)}
    tools = {id(t.command): t for t in info.tools}
    mounts = [m for m in ctx.mounts(info.ins) if m.type == "cache"]
    out: dict[str, _Need] = {}
    for command in info.commands:
        name = cache_tool(command, tools.get(id(command)))
        if name is None:
            continue
        env = envs.get(id(command), state.values)
        use = cache_dirs(name, env, state.user_is_root)
        if use is None:
            continue
        need = out.get(name)
        if need is None:
            need = out[name] = _Need(use, owner, mounted=all(_covered(mounts, d) for d in use.directories))
        need.commands.append(command)
    return list(out.values())


def _covered(mounts: list[Mount], directory: str) -> bool:
    return any(m.covers(directory, ("cache",)) for m in mounts)


def _blocker(ctx: Context, info: package_runs.RunInfo, need: _Need) -> str | None:
    """Why the mount cannot go on this RUN, if something forbids it."""
    use = need.use
    if any(m.type != "cache" and m.target and any(is_under(d, m.target) or is_under(m.target, d)
                                                   for d in use.directories) for m in ctx.mounts(info.ins)):
        return "another mount of the RUN sits on the cache directory"
    if use.tool == "apt":
        apt = _apt_blocker(ctx, info)
        if apt is not None:
            return apt
    if use.store:
        reader = _store_reader_without_mount(ctx, info, need)
        if reader is not None:
            return (f"line {reader.start_line} may read the {use.tool} cache without the mount (it runs "
                    f"{use.tool} or a command dockopt does not model)")
    stage = ctx.stage(info.ins)
    for other in ctx.tree.instructions:
        source = other.flag("from")
        if other.keyword in ("COPY", "ADD") and source is not None and stage is not None:
            ref = ctx.graph.ref(source.value or "", len(ctx.graph.stages))
            if ref is not None and (ref is stage or stage in ctx.graph.chain(ref)) and any(
                    is_under(src if src.startswith("/") else "/" + src, d) or is_under(d, src)
                    for src in other.values[:-1] for d in use.directories):
                return f"line {other.start_line} copies the cache out of the stage"
    return None


def _mount_point_removal(ctx: Context, info: package_runs.RunInfo, use: CacheUse) -> str | None:
    """A command the fix keeps deletes a cache directory or one above it (`rm -rf /var/lib/apt`):
    with the mount there, it would fail ('Device or resource busy'), and so would the RUN. So
    may a deletion whose path is only known at build time, unless what it starts with rules
    that out (`rm node-v$VERSION.tar.gz`)."""
    for step in ctx.steps(info.ins):
        if _empties(step, use):
            continue        # the fix takes the cleanup out
        for deleted in step.deletes:
            hit = next((d for d in use.directories if path_removes(deleted.path, d)), None)
            if hit is not None:
                return f"the RUN deletes {deleted.path}, which holds {hit}"
        rm = parse_rm(step.command)
        if rm is None or not (rm.recursive or any(f.name in ("-d", "--dir") for f in rm.flags)):
            continue            # only these delete a directory, and a mount point is one
        unknown = [w for w in rm.paths if w.text is None]
        if step.unresolved:     # `~` of a user whose home dockopt does not know
            unknown += [w for w in rm.paths if (w.text or "").startswith("~")]
        why = next((found for word in unknown if (found := _may_remove(step, word, use)) is not None), None)
        if why is not None:
            return why
    return None


def _may_remove(step: Step, word: Word, use: CacheUse) -> str | None:
    """Why deleting the path `word` names (only known at build time, or known after all:
    `$HOME/.cache`) may take a cache directory with it; None when it cannot."""
    path = step.word_path(word)
    if path is not None:
        hit = next((d for d in use.directories if path_removes(path, d)), None)
        return f"the RUN deletes {path}, which holds {hit}" if hit is not None else None
    start = step.path_start(word)
    if start is None or any(d.startswith(start) for d in use.directories):
        return f"the RUN deletes `{word.raw}`, a path only known at build time, which may hold it"
    return None


def _apt_blocker(ctx: Context, info: package_runs.RunInfo) -> str | None:
    if info.consumers_without_update:
        return "an apt command of this RUN reads lists an earlier RUN fetched, which the mount would hide"
    if not info.apt_updates:
        return "the RUN installs without `apt-get update`"
    later = list_readers.later_readers(ctx, info.ins, list_readers.APT)
    if later.fixable or later.blockers:
        return f"line {later.lines.split(',')[0]} reads the lists this RUN leaves, which would live in the mount"
    return None


def _store_reader_without_mount(ctx: Context, info: package_runs.RunInfo, need: _Need) -> Instruction | None:
    """Another RUN of the same image that may read or fill a store (Go's module cache, Cargo's
    registry, ...) and would not see the mount: the store would then be empty there, or the
    files this RUN expects from an earlier one would be hidden under the mount."""
    programs = _STORES_RUN_BY_ENTRY.get(need.use.tool, (need.use.tool,))
    for other in [*ctx.graph.before(info.ins), *ctx.graph.after(info.ins)]:
        if other.keyword != "RUN":
            continue
        mounts = [m for m in ctx.mounts(other) if m.type == "cache"]
        if all(_covered(mounts, d) for d in need.use.directories):
            continue
        other_info = package_runs.run_info(ctx, other)
        if other_info is not None and other_info.editable and any(
                n.use.tool == need.use.tool and n.use.directories == need.use.directories
                for n in _needs(ctx, other_info)):
            continue      # it gets the same mount
        words = set(re.findall(r"[\w./-]+", other.args))
        if not ctx.effects(other).modelled or words & set(programs):
            return other
    return None


def _unsafe_reason(ctx: Context, info: package_runs.RunInfo, need: _Need, buildkit: bool) -> str | None:
    if not buildkit:
        return 'the project builds with the classic builder (target = "classic"), which cannot build RUN --mount'
    programs = _STORES_RUN_BY_ENTRY.get(need.use.tool)
    stage = ctx.stage(info.ins)
    if programs and stage is not None and ctx.graph.in_final_image(stage):
        final = ctx.graph.final
        for ins in final.instructions if final is not None else ():
            if ins.keyword in ("CMD", "ENTRYPOINT") and any(re.search(rf"(^|[\s\"/]){re.escape(p)}([\s\"]|$)",
                                                                       ins.args) for p in programs):
                return f"the image runs {programs[0]} itself, which would find its cache empty"
    return None


# --------------------------------------------------------------------------- edits

def _cleanup_edits(ctx: Context, info: package_runs.RunInfo, need: _Need) -> list[Edit] | None:
    """Edits that take out what empties the cache (None when one cannot be taken out)."""
    edits: list[Edit] = []
    for command in need.commands:
        tool = parse_tool(command)
        for flag in _no_cache_flags(tool, need.use.tool):
            edit = _drop_word(info, flag.word.start, flag.word.end)
            if edit is None:
                return None
            edits.append(edit)
    steps = {id(step.command): step for step in ctx.steps(info.ins)}
    for k, link in enumerate(info.script.chain):
        step = steps.get(id(link.commands[0])) if len(link.commands) == 1 else None
        if step is None or not _empties(step, need.use):
            continue
        edit = _drop_link(info, k)
        if edit is None:
            return None
        edits.append(edit)
    return edits


def _no_cache_flags(tool: ToolCommand | None, name: str) -> list[Flag]:
    if tool is None:
        return []
    names = _NO_CACHE_FLAGS.get(name, ())
    return [f for f in tool.flags if f.name in names and f.word.raw == f.name]


def _empties(step: Step, use: CacheUse) -> bool:
    """The command deletes the cache (or part of it) and nothing else."""
    command = step.command
    for program, words in _CLEANERS.get(use.tool, ()):
        args = [w.text for w in command.args]
        if command.program == program and tuple(args[:len(words)]) == words:
            return True
    rm = parse_rm(command)
    deleted = [step.word_path(word) for word in rm.paths] if rm is not None else []
    if not deleted:
        return False
    return all(path is not None and any(is_under(path.rstrip("*").rstrip("/") or "/", c) for c in use.directories)
               for path in deleted)


def _drop_word(info: package_runs.RunInfo, start: int, end: int) -> Edit | None:
    text = info.script.text
    if start > 0 and text[start - 1] in " \t":
        return package_runs.replace(info, start - 1, end, "")
    if end < len(text) and text[end] in " \t":
        return package_runs.replace(info, start, end + 1, "")
    return None


def _drop_link(info: package_runs.RunInfo, k: int) -> Edit | None:
    """Delete the k-th link of the top-level chain with one `&&` next to it."""
    chain = info.script.chain
    link = chain[k]
    if k > 0 and chain[k - 1].operator == AND and link.operator in (None, AND, ";"):
        return package_runs.delete(info, chain[k - 1].end, link.end)
    if k == 0 and len(chain) > 1 and link.operator == AND:
        return package_runs.delete(info, link.start, chain[1].start)
    return None


def _apt_archives_edits(ctx: Context, info: package_runs.RunInfo, need: _Need) -> list[Edit]:
    """`-o Dir::Cache::Archives=...` on each apt install, unless the file already keeps the
    downloaded packages another way."""
    before = ctx.graph.before(info.ins)
    if any("docker-clean" in ins.source or "Keep-Downloaded-Packages" in ins.source for ins in before):
        return []
    edits = []
    for tool in info.apt("install"):
        if "Dir::Cache::Archives" in info.script.text[tool.command.start:tool.command.end]:
            continue
        edits.append(package_runs.insert(info, tool.flag_insert_at, f" -o Dir::Cache::Archives={APT_ARCHIVES_KEPT}"))
    return edits


def _mount_insertion(ctx: Context, info: package_runs.RunInfo, need: _Need) -> Edit:
    """The mount flags right after `RUN`: inline for one, one per continuation line for several."""
    ins = info.ins
    logical = ins.logical
    at = len(logical) - len(arguments.lstrip_go(logical)) + len(ins.parsed.keyword)
    offset = ins.logical_to_offset(at)
    flags = cache_mount_flag(need.use, need.owner).split(" ")
    if len(flags) == 1:
        return Edit(offset, offset, " " + flags[0])
    indent = continuation_indent(ctx.tree)
    joint = f" {ctx.tree.escape}{newline_of(ctx.tree)}"
    text = " " + (joint + indent).join(flags) + joint + indent[:-1]
    return Edit(offset, offset, text)


__all__ = ["CacheMounts", "cache_mount_flag", "opts_into_buildkit", "targets_buildkit", "uses_buildkit_syntax"]
