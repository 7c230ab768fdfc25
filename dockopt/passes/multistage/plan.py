"""What every planner of the split shares: the plan, the build's outputs followed to where they
end up, what the image runs, and the runtime stage's packages, users and base image."""
from __future__ import annotations

import fnmatch
import json
import posixpath
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

from ...ecosystems import system
from ...ecosystems.common import CannotTell
from ...facts import images
from ...facts.files import ContextFiles
from ...facts.paths import is_under, join
from ...syntax import Instruction
from ..base import Context
from .detect import WEB_ROOTS, installs, is_system_install, removed_packages
from .model import Output, RunCommand, StageModel, moves, removed_paths, shell_commands

BUILDER = "build"
LIBS_DIR = "/runtime-libs"
# runtime-only metadata: moved to the runtime stage
MOVED = frozenset({"CMD", "ENTRYPOINT", "EXPOSE", "HEALTHCHECK", "STOPSIGNAL", "LABEL", "MAINTAINER", "ONBUILD"})
# carried (copied) to the runtime stage and kept in the builder
CARRIED = frozenset({"ENV", "VOLUME"})
SETUP_COMMANDS = frozenset({"useradd", "adduser", "groupadd", "addgroup", "mkdir", "chown", "chmod", "ln", "touch",
                            "usermod", "chgrp", "true"})
SHELL_BUILTINS = frozenset({"exec", "cd", "export", "set", "test", "[", "echo", "printf", "true", "false", ":",
                            "trap", "wait", "eval", "shift", "unset", "read", "source", "."})
_ROOT_USERS = (None, "root", "0", "0:0", "root:root")

# what a build command makes: (image path, what: "binary", "dir", "jar", "jars", "file")
Producer = Callable[[RunCommand], list[tuple[str, str]]]


@dataclass
class Plan:
    language: str
    runtime: str
    artifacts: list[tuple[str, str, bool]] = field(default_factory=list)   # (builder path, dest, glob)
    builder_prefix: list[str] = field(default_factory=list)   # lines right after the builder FROM
    builder_suffix: list[str] = field(default_factory=list)   # lines at the end of the builder
    pre_copy: list[str] = field(default_factory=list)        # runtime lines before the artifacts
    post_copy: list[str] = field(default_factory=list)       # runtime lines after the artifacts
    chown: str | None = None
    drop_entry: bool = False          # the runtime image's own CMD serves (nginx)
    drop_expose: bool = False
    notes: list[str] = field(default_factory=list)
    builder_edits: dict[int, str] = field(default_factory=dict)   # id(ins) -> replacement text in the builder
    runtime_body: list[str] | None = None   # a full runtime body (Python): replaces the generic layout


@dataclass(frozen=True)
class Site:
    """What a planner reads: the stage, its base image, and every command its RUNs run."""

    ctx: Context
    model: StageModel
    image: images.ImageRef
    commands: list[RunCommand]

    @property
    def files(self) -> ContextFiles:
        return self.model.files


@dataclass
class Traced:
    outputs: list[Output]
    producers: list[RunCommand]

    @property
    def build_ids(self) -> set[int]:
        return {id(rc.ins) for rc in self.producers}


@dataclass(frozen=True)
class Runtime:
    """What the runtime stage needs besides the artifacts."""

    manager: str | None       # apt-get or apk
    packages: list[str]       # what the app needs at run time
    dropped: list[str]        # build-only packages left in the builder
    setup: list[Instruction]  # RUNs that create users and directories


# --------------------------------------------------------------------------- the build's outputs

def trace(site: Site, produce: Producer) -> Traced:
    """Follow the build's outputs through cp/mv/install/rm to where they end up."""
    traced = Traced([], [])
    lineage = order = 0
    for rc in site.commands:
        made = produce(rc)
        if made:
            traced.producers.append(rc)
            for path, what in made:
                lineage += 1
                order += 1
                traced.outputs = [o for o in traced.outputs if o.path != path]
                traced.outputs.append(Output(path, "", rc.ins, what, lineage, order,
                                             glob=any(ch in path for ch in "*?[")))
            continue
        for kind, src, dst in moves(rc):
            order = _move(traced, rc, kind, src, dst, order)
        for gone in removed_paths(rc):
            traced.outputs = [o for o in traced.outputs if not is_under(o.path, gone)]
    return traced


def _move(traced: Traced, rc: RunCommand, kind: str, src: str, dst: str, order: int) -> int:
    for o in list(traced.outputs):
        if o.path == src or is_under(src, o.path):
            order += 1
            what = o.what if o.path == src else ("dir" if src.endswith("/") else "file")
            traced.outputs = [x for x in traced.outputs if x.path != dst]
            traced.outputs.append(Output(dst, o.language, rc.ins, what, o.lineage, order))
            if kind == "mv" and o.path == src:
                traced.outputs.remove(o)
            break
    return order


# --------------------------------------------------------------------------- what the image runs

def entry_refs(model: StageModel) -> tuple[list[str], list[list[str]]]:
    """Absolute paths the entry (and HEALTHCHECK) may mean, and its commands."""
    cmds = model.entry.commands() + _healthcheck_commands(model)
    refs: list[str] = []
    wd = model.workdir or "/"
    for argv in cmds:
        for i, word in enumerate(argv):
            if word in (None, "$") or (word.startswith("-") and i):
                continue
            if i == 0 and "/" not in word:
                refs += [f"{d}/{word}" for d in model.path_dirs]
            elif "/" in word or i > 0:
                p = join(wd, word.split("=", 1)[-1])
                if p:
                    refs.append(p)
    return refs, cmds


def _healthcheck_commands(model: StageModel) -> list[list[str]]:
    hc = model.healthcheck
    if hc is None or not hc.values or hc.values[0].upper() != "CMD":
        return []
    m = re.match(r"(?is)^(?:--\S+\s+)*CMD\s+(.*)$", hc.args)
    if not m:
        return []
    body = m.group(1).strip()
    if not body.startswith("["):
        return shell_commands(body)
    try:
        return [list(json.loads(body))]
    except ValueError:
        return []


def entry_outputs(model: StageModel, traced: Traced, nothing: str) -> tuple[list[tuple[str, bool]], list[list[str]]]:
    """The outputs to copy (`select`) and the entry's commands; CannotTell(`nothing`) when the build
    produces nothing, or when no CMD or ENTRYPOINT says what the image runs."""
    if not traced.outputs:
        raise CannotTell(nothing)
    entry_present(model)
    refs, cmds = entry_refs(model)
    return select(traced, refs, whole_dirs=False), cmds


def entry_programs(cmds: list[list[str]]) -> set[str]:
    return {posixpath.basename(a[0]) for a in cmds if a}


def select(traced: Traced, refs: list[str], whole_dirs: bool) -> list[tuple[str, bool]]:
    """Which output locations to copy: per lineage, the one the entry uses, else the last one.

    For a directory output the entry points into (`java -jar target/app.jar`), only the paths
    it names are copied unless `whole_dirs`."""
    by_lineage: dict[int, list[Output]] = {}
    for o in traced.outputs:
        by_lineage.setdefault(o.lineage, []).append(o)
    chosen: list[tuple[str, bool]] = []
    referenced_names: set[str] = set()
    unreferenced: list[Output] = []
    for locs in by_lineage.values():
        hit = [h for o in locs for h in _hits(o, refs, whole_dirs)]
        if hit:
            chosen += hit
            referenced_names |= {posixpath.basename(p) for p, _g in hit}
        else:
            unreferenced.append(max(locs, key=lambda o: o.order))
    # an output the entry does not name, unless it is the same program built once and installed elsewhere
    chosen += [(o.path, o.glob) for o in unreferenced if posixpath.basename(o.path) not in referenced_names]
    out: list[tuple[str, bool]] = []
    for p, g in chosen:
        if (p, g) not in out and not any(is_under(p, q) and p != q for q, _ in chosen):
            out.append((p, g))
    return out


def _hits(o: Output, refs: list[str], whole_dirs: bool) -> list[tuple[str, bool]]:
    exact = [r for r in refs if r == o.path]
    if o.glob:
        exact += [r for r in refs if fnmatch.fnmatch(r, o.path)]
    if exact:
        return [(o.path, o.glob)]
    inside = [r for r in refs if is_under(r, o.path) and r != o.path]
    if not inside:
        return []
    if whole_dirs:
        return [(o.path, False)]
    return [(r, any(ch in r for ch in "*?[")) for r in inside]


def package_programs(packages: list[str]) -> set[str]:
    out: set[str] = set()
    for p in packages:
        out |= system.programs_of(re.split(r"[=<>~]", p, maxsplit=1)[0])
    return out


def check_entry(model: StageModel, cmds: list[list[str]], artifacts: list[str], runtime: str,
                extra_programs: set[str] | frozenset[str] = frozenset()) -> None:
    """Every program the entry runs must be an artifact or part of the runtime image."""
    wd = model.workdir or "/"
    for argv in cmds:
        if argv and argv[0] == "$":
            raise CannotTell("the command the image runs is only known at run time")
        if not argv or argv[0] is None:
            continue
        prog = argv[0]
        name = posixpath.basename(prog)
        if name in SHELL_BUILTINS or name in extra_programs or images.provides(runtime, prog):
            continue
        if "/" in prog:
            path = join(wd, prog)
            built = any(path is not None and (path == a or is_under(path, a)) for a in artifacts)
        else:
            built = any(posixpath.basename(a) == prog and posixpath.dirname(a) in model.path_dirs for a in artifacts)
        if not built:
            raise CannotTell(f"the image runs `{prog}`, which is neither a build output nor part of {runtime}")


# --------------------------------------------------------------------------- the runtime stage

def setup_runs(site: Site, outputs: list[str]) -> list[Instruction]:
    """RUNs that only set up users and directories (replayed in the runtime)."""
    out = []
    for ins in site.model.stage.instructions:
        cmds = [rc for rc in site.commands if rc.ins is ins] if ins.keyword == "RUN" else []
        if not cmds or ins.flags or not all(rc.command.program in SETUP_COMMANDS for rc in cmds):
            continue
        words = [w.text or "" for rc in cmds for w in rc.command.args]
        if not any(any(w.startswith(o) for o in outputs) for w in words):
            out.append(ins)
    return out


def runtime_needs(site: Site, build_ids: set[int], programs: set[str], outputs: list[str]) -> Runtime:
    """The packages, users and directories the runtime stage needs."""
    manager, keep, dropped = runtime_packages(site.commands, build_ids, programs)
    return Runtime(manager, keep, dropped, setup_runs(site, outputs))


def runtime_packages(commands: list[RunCommand], build_cmds: set[int],
                     programs: set[str]) -> tuple[str | None, list[str], list[str]]:
    """(manager, packages the app needs at run time, build-only packages dropped)."""
    manager = None
    keep: list[str] = []
    dropped: list[str] = []
    # programs the build runs: the packages that provide only them are build tools
    used_by_build = {rc.command.program for rc in commands
                     if (id(rc.ins) in build_cmds or not is_system_install(rc)) and rc.command.program}
    for rc, tool in installs(commands):
        removed = removed_packages(rc.ins, commands)
        manager = "apk" if tool.manager == "apk" else "apt-get"
        for p in tool.packages:
            if p.name in removed:
                continue
            program = {"nodejs": "node"}.get(p.name, p.name)
            if not (system.is_build_package(p.name) or (program in used_by_build and program not in programs)):
                if p.word.raw not in keep:
                    keep.append(p.word.raw)
                continue
            lib = system.runtime_lib(manager, p.name)[1]
            if lib and lib not in keep:
                keep.append(lib)
                dropped.append(p.name)
            elif system.unknown_dev(p.name, manager):
                # a -dev package whose library dpkg does not tell us: keep it (headers and all)
                if p.name not in keep:
                    keep.append(p.name)
                else:
                    dropped.append(p.name)
            else:
                dropped.append(p.name)
    return manager, keep, dropped


def pkg_install_line(manager: str, packages: list[str]) -> str:
    if manager == "apk":
        return f"RUN apk add --no-cache {' '.join(packages)}"
    return ("RUN apt-get update && apt-get install -y --no-install-recommends "
            f"{' '.join(packages)} && rm -rf /var/lib/apt/lists/*")


def copy_line(src: str | list[str], dest: str, chown: str | None, builder: str) -> str:
    """COPY --from=<builder> of one path, or of several (`src` a list or space-separated)."""
    flags = f"--from={builder}" + (f" --chown={chown}" if chown else "")
    srcs = src if isinstance(src, list) else [src]
    if any(c.isspace() for c in "".join(srcs) + dest) or '"' in "".join(srcs) + dest:
        return f"COPY {flags} {json.dumps([*srcs, dest])}"
    return f"COPY {flags} {' '.join(srcs)} {dest}"


def context_copy_line(srcs: list[str], dest: str, flags: tuple[str, ...] = ()) -> str:
    """COPY of build-context paths (with the original COPY's flags)."""
    head = "COPY " + "".join(f + " " for f in flags)
    if any(c.isspace() or c == '"' for c in "".join(srcs) + dest):
        return head + json.dumps([*srcs, dest])
    return head + " ".join([*srcs, dest])


def build_user(model: StageModel, ins: Instruction) -> str | None:
    user = model.users.get(id(ins))
    return None if user in _ROOT_USERS else user


def lib_collector(binaries: list[str]) -> str:
    bins = " ".join(shlex.quote(b) for b in binaries)
    return (f"RUN mkdir -p {LIBS_DIR} && for bin in {bins}; do ldd \"$bin\" 2>/dev/null || true; done "
            "| awk '$3 ~ /^\\// {print $3}' | sort -u "
            "| grep -Ev '/(libc|libm|libdl|libpthread|librt|libresolv|libutil|libgcc_s|libstdc\\+\\+|libz)\\.so"
            "|/ld-linux' "
            f"| xargs -r cp --parents -L -t {LIBS_DIR}")


def choose(ctx: Context, language: str, default: str) -> tuple[str, bool]:
    """The runtime image: the user's for the language, else `default`; and whether it is the user's."""
    settings = ctx.settings
    configured = settings.runtime_image(language) if hasattr(settings, "runtime_image") else None
    return (configured, True) if configured else (default, False)


def native_runtime(site: Site, language: str, *, static: bool, needs_shell: bool, runtime: Runtime
                   ) -> tuple[str, bool]:
    """The runtime image of a compiled program: distroless static when it needs nothing, else the
    slim image of the builder's distro release (or the user's)."""
    release = images.release_of(site.image)
    slim = images.debian_slim(release) or images.debian_slim(images.Release("debian", images.DEFAULT_DEBIAN)) or ""
    pkgs = runtime.packages
    if static and not needs_shell and not pkgs:
        default = images.distroless_static(release) if release.family != "alpine" else slim
    else:
        default = slim
    if runtime.manager == "apk" and release.family != "alpine":
        raise CannotTell("packages installed with apk on a non-Alpine image")
    chosen, configured = choose(site.ctx, language, default)
    if (needs_shell or pkgs) and images.image_facts(chosen).shell is False:
        raise CannotTell(f"the runtime {chosen} has no shell, which "
                         + ("the entry point needs" if needs_shell else "installing " + " ".join(pkgs) + " needs"))
    return chosen, configured


def runtime_plan(site: Site, language: str, chosen: list[tuple[str, bool]], cmds: list[list[str]],
                 runtime: Runtime, *, static: bool, notes: list[str] | None = None) -> tuple[Plan, bool]:
    """The plan of a compiled program's runtime stage, and whether the user configured its image;
    CannotTell when the image lacks what the entry point or the final USER needs."""
    model = site.model
    needs_shell = model.entry.needs_shell or bool(runtime.setup)   # RUN useradd etc. need a shell
    image, configured = native_runtime(site, language, static=static, needs_shell=needs_shell, runtime=runtime)
    check_entry(model, cmds, [p for p, _g in chosen], image, package_programs(runtime.packages))
    user_needs(model, runtime.setup, image)
    return Plan(language, image, notes=notes or []), configured


def carry_setup(plan: Plan, setup: list[Instruction], runtime: str) -> None:
    if not setup:
        return
    if images.image_facts(runtime).shell is False:
        raise CannotTell(f"the stage creates users or directories with RUN, which {runtime} cannot run")
    plan.pre_copy += [ins.source.rstrip("\r\n") for ins in setup]


def user_needs(model: StageModel, setup: list[Instruction], runtime: str) -> None:
    """The final USER must exist in the runtime image."""
    user = model.user
    if user is None:
        return
    name = user.split(":", 1)[0]
    if name.isdigit() or name in ("root", ""):
        return
    if any(re.search(rf"\b(useradd|adduser)\b[^&;|]*\b{re.escape(name)}\b", ins.args) for ins in setup):
        return
    if name not in _known_users(runtime):
        raise CannotTell(f"USER {user} is not created by this Dockerfile and may not exist in {runtime}")


def _known_users(runtime: str) -> set[str]:
    image = images.parse_image(runtime)
    known = {"root", "nobody", "daemon", "bin", "sys"}
    if image is None:
        return known
    if image.name == "node":
        known.add("node")
    if image.path.startswith("gcr.io/distroless/"):
        known = {"root", "nobody", "nonroot"}
    if image.repository == "scratch":
        known = set()
    if image.name in WEB_ROOTS:
        known |= {"nginx", "www-data"}
    return known


def finish_native(plan: Plan, chosen: list[tuple[str, bool]], runtime: Runtime, chown: str | None,
                  static: bool) -> None:
    """Setup, packages, artifacts and (unless `static`) the shared libraries the binaries link."""
    carry_setup(plan, runtime.setup, plan.runtime)
    if runtime.packages:
        if images.image_facts(plan.runtime).shell is False:
            raise CannotTell(f"the runtime {plan.runtime} cannot install " + " ".join(runtime.packages))
        plan.pre_copy.insert(0, pkg_install_line(runtime.manager or "apt-get", runtime.packages))
    for p, g in chosen:
        plan.artifacts.append((p, p if not g else posixpath.dirname(p) + "/", g))
    plan.chown = chown
    if not static:
        binaries = [p for p, g in chosen if not g]
        if binaries and images.image_facts(plan.runtime).shell is not False:
            plan.builder_suffix.append(lib_collector(binaries))
            plan.artifacts.append((LIBS_DIR + "/", "/", False))
    if runtime.dropped:
        plan.notes.append("leaves out " + ", ".join(runtime.dropped))


def entry_present(model: StageModel) -> None:
    if not model.entry.present:
        raise CannotTell("no CMD or ENTRYPOINT: cannot tell what the image runs")
