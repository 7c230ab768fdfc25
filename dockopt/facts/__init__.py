"""The facts of a Dockerfile: one answer to every question a pass asks about it.

A pass never works out the stage graph, a variable, the working directory or what a RUN does
for itself: it asks the pass context (`passes.base.Context`, a `FileFacts`), which computes each
fact once per file, the first time it is asked, and caches it.

The stage graph (`ctx.graph`, a `StageGraph`)
    `parent(stage)` is the earlier stage a `FROM <name>` builds on (names compare without case;
    `FROM 0` names an image, not a stage), `chain(stage)` that line oldest first, `root(stage)` its
    first stage and `base_image(stage)` the image it starts from, global ARGs filled in;
    `descendants(stage)`; `before(ins)` / `after(ins)` the instructions that run below / on top of
    an instruction's layer; `ref(value, before)` the stage a `--from=` names (a name or an index);
    `copied_from(stage)`. `in_final_image(stage)`: its layers are the final image's layers.
    `needed`: the stages building the final stage needs (None when a reference is only known at
    build time). `shipped`: stages whose layers end up in some image (the final one and any a
    `--target` may build: those nothing copies from), with the stages they are built on.

The state at an instruction (`ctx.state(ins)`, a `State`; `ctx.end_state(stage)`)
    `variables`: the ENV and ARG variables in force (and the few a known base image sets, such as
    PATH), each a `Variable` whose `value` has its quotes removed and its variables expanded;
    `value(name)` is None when the variable is unset *or only known at build time* (an ARG
    without a default, an ENV built from one). `cwd`: the working directory, absolute; under
    `paths.BASE_WORKDIR` when it depends on a base image whose WORKDIR dockopt does not know
    (`images.workdir_of`: official images it knows start in `/`, golang in `/go`); None when a
    WORKDIR uses a variable only known at build time. Such a path compares with others under the
    same unknown directory, but `paths.known()` is False for it: a fix must not write it out.
    `user`: the USER in force, None when the base image's; `shell` and `shell_kind`: the SHELL
    in force, classified by `shell.classify_shell` (`mksh`, `ksh93`, `busybox sh` are POSIX;
    PowerShell and cmd are not).

The build context (`ctx.files`, a `ContextFiles`)
    One cached view of the context directory as BuildKit sends it: `.dockerignore` (or
    `<Dockerfile>.dockerignore`) applied, including a `.dockerignore` that an earlier fix of the
    same run will write (pending side files). `available` is False without a context (stdin, a
    missing directory, a `.dockerignore` BuildKit would refuse); every question is then answered
    False/None. `sent(rel)`: exists and is sent; `sent_text(rel)`: what a file the build can
    COPY holds; `glob(source)`: what a COPY source names.

RUN scripts (`ctx.run_script(ins)`, `ctx.script(ins)`, `ctx.steps(ins)`, `ctx.mounts(ins)`)
    The script a POSIX shell runs (None with the reason for exec form, a non-POSIX SHELL, or a
    heredoc that feeds a command), parsed once (`dockopt.shell.Script`); its commands as `Step`s,
    each with the directory it runs in (a `cd` of the main shell moves it; one in a condition
    or function makes it unknown) and the variables it sees; the RUN's `--mount`s as `Mount`s.

What an instruction reads and writes (`ctx.effects(ins)`, an `Effects`)
    `context_reads`: build-context paths (COPY/ADD sources and bind mounts, with the sent paths
    they name when there is a context); `context_origin(ins, path)`: the context file whose copy
    sits at an image path when `ins` runs (a bind mount of it, or the last COPY/ADD that put it
    there); `stage_reads`: (stage or image, path) of `--from`;
    `reads`, `writes`, `deletes`: image paths (`Access`), resolved against the directory each
    command runs in, writes under a cache or tmpfs mount left out (they never reach a layer);
    `packages`: installed and removed; `env_reads`: the variables its text refers to (a RUN's
    programs also see every variable in force). `modelled` is False, and `unmodelled` says why,
    when something it does is not known (a program the shell model does not know, a path only
    known at build time, a script that does not parse): its read and write sets are then
    incomplete, and a caller must treat the instruction as touching anything (`touches()` does).
    Package managers write the system directories (`shell.SYSTEM_DIRS`); what a language's
    installer reads and writes comes from `dockopt.ecosystems`. A COPY/ADD `--chown` naming a
    user or group reads /etc/passwd and /etc/group; `created`: the directories above a COPY's
    destination it may create (`paths.created_parents`, the FHS ones left out). `uses_cwd`: a
    RUN names a path relative to the directory it runs in (or `cd`s to one, or runs where the
    directory is unknown).

What a rebuild re-runs (`ctx.rebuild`, a `RebuildModel`)
    After an edit of context path P, BuildKit runs again the first instruction of each built
    stage that reads P (a COPY/ADD source or a bind mount taking it in), everything after it in
    that stage, every stage built FROM it, and in a stage that reads an affected stage
    (`COPY --from`, `RUN --mount=from=`) everything from that read on; stages the target does not
    need, or that depend on nothing affected, come from the cache. `reruns(P)` lists those
    instructions, `steps(P)` counts the build steps among them (RUN, COPY, ADD, WORKDIR),
    `first_reader(stage, P)` is where a stage starts again. A path `.dockerignore` excludes
    re-runs nothing. `source_edits(reads, files)` picks the context paths that stand for a source
    edit (files taken in only in bulk, never named by a COPY; without a context, `SOURCE_PROBE`,
    which only a whole-context copy takes in). The fixer compares these counts before and after
    a rewrite (DESIGN.md invariant 6); the outcome harness can use them to predict a rebuild.

The frontend (`facts.frontend`)
    `frontend_version(tree.syntax)`: the dockerfile release a `# syntax=` directive names
    (`:1` floats to the newest 1.x); `frontend_supports(syntax, minimum, labs_minimum)`: whether
    the frontend that reads the file has a feature (`COPY --chmod` symbolic modes, `--link`).
"""
from __future__ import annotations

from .effects import Access, ContextRead, Effects, PackageChange, Step
from .file_facts import FileFacts
from .files import ContextFiles
from .mounts import Mount
from .paths import BASE_WORKDIR, known
from .rebuild import SOURCE_PROBE, STEP_KEYWORDS, RebuildModel, count_steps, read_matches, source_edits
from .scripts import RunScript
from .stages import StageGraph
from .state import State, Variable

__all__ = [
    "BASE_WORKDIR",
    "SOURCE_PROBE",
    "STEP_KEYWORDS",
    "Access",
    "ContextFiles",
    "ContextRead",
    "Effects",
    "FileFacts",
    "Mount",
    "PackageChange",
    "RebuildModel",
    "RunScript",
    "StageGraph",
    "State",
    "Step",
    "Variable",
    "count_steps",
    "known",
    "read_matches",
    "source_edits",
]
