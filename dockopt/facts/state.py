"""What is in force when each instruction runs: variables, working directory, user, shell.

Read the way BuildKit builds a stage: a stage built FROM an earlier stage starts with that
stage's environment (ENV, not ARG), working directory, user and shell; any other stage starts
with what dockopt knows of its base image (`images`). ARGs are in force from their declaration
to the end of their stage; an `ARG NAME` without a default takes the default of a global
`ARG NAME` (one declared before the first FROM); an ENV of the same name wins over an ARG.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ..shell import ShellKind, classify_shell
from ..syntax import Instruction, Stage
from . import images
from .paths import BASE_WORKDIR, join
from .stages import StageGraph
from .variables import expand, unquote

__all__ = ["DEFAULT_SHELL", "State", "Variable", "advance", "compute_states", "home_of"]

DEFAULT_SHELL = ("/bin/sh", "-c")


@dataclass(frozen=True)
class Variable:
    """A variable in force: from an ENV, an ARG, or the base image's known environment."""

    name: str
    value: str | None          # quotes removed, variables expanded; None: only known at build time
    origin: str                # "ENV", "ARG" or "image"
    ins: Instruction | None    # the ENV/ARG that set it (None for the image's)


@dataclass(frozen=True)
class State:
    """What an instruction sees when it runs (for a FROM: what its stage starts with; before the
    first FROM: the global scope, where only ARGs are read)."""

    stage: Stage | None
    variables: Mapping[str, Variable] = field(default_factory=dict)
    cwd: str | None = BASE_WORKDIR   # absolute; under BASE_WORKDIR when the base's is unknown; None: unknown
    user: str | None = None          # USER in force (variables expanded when known); None: the base image's
    shell: tuple[str, ...] = DEFAULT_SHELL
    shell_kind: ShellKind = field(default_factory=lambda: classify_shell(DEFAULT_SHELL))

    def value(self, name: str) -> str | None:
        """The variable's value; None when it is unset or only known at build time."""
        var = self.variables.get(name)
        return var.value if var is not None else None

    @property
    def values(self) -> dict[str, str | None]:
        return {name: var.value for name, var in self.variables.items()}

    @property
    def user_is_root(self) -> bool:
        """USER root (or 0), or none set: the base image's user, root unless the image says otherwise."""
        return self.user is None or self.user.split(":")[0] in ("root", "0")


def compute_states(graph: StageGraph) -> tuple[dict[int, State], dict[int, State]]:
    """(the state each instruction sees, by id; the state each stage ends with, by index)."""
    at: dict[int, State] = {}
    final: dict[int, State] = {}
    scope = State(None, {name: Variable(name, value, "ARG", None) for name, value in graph.args.items()})
    for ins in graph.tree.instructions:
        if ins.keyword == "FROM":
            break
        at[id(ins)] = scope
    for stage in graph.stages:
        parent = graph.parent(stage)
        state = _inherited(final[parent.index], stage) if parent is not None else _fresh(graph, stage)
        at[id(stage.from_)] = state
        for ins in stage.instructions:
            at[id(ins)] = state
            state = advance(graph, state, ins)
        final[stage.index] = state
    return at, final


def _fresh(graph: StageGraph, stage: Stage) -> State:
    base = graph.base_name(stage)
    known = "$" not in base
    env = images.base_env(base) if known else {"PATH": ":".join(images.DEFAULT_PATH)}
    variables = {name: Variable(name, value, "image", None) for name, value in env.items()}
    workdir = images.workdir_of(base) if known else None
    state = State(stage, variables, workdir if workdir is not None else BASE_WORKDIR)
    if images.is_windows(base):
        return replace(state, shell=images.WINDOWS_SHELL, shell_kind=classify_shell(images.WINDOWS_SHELL))
    return state


def _inherited(parent: State, stage: Stage) -> State:
    kept = {name: var for name, var in parent.variables.items() if var.origin != "ARG"}
    return replace(parent, stage=stage, variables=kept)


def advance(graph: StageGraph, state: State, ins: Instruction) -> State:
    """The state after `ins` (what the next instruction sees)."""
    kw = ins.keyword
    if kw == "ARG":
        return replace(state, variables=_declare_args(graph, state, ins))
    if kw == "ENV":
        variables = dict(state.variables)
        values = ins.values
        for i in range(0, len(values), 2):
            raw = unquote(values[i + 1]) if i + 1 < len(values) else ""
            env = {name: var.value for name, var in variables.items()}
            variables[values[i]] = Variable(values[i], expand(raw, env), "ENV", ins)
        return replace(state, variables=variables)
    if kw == "WORKDIR" and ins.values and ins.values[0]:
        value = expand(unquote(ins.values[0]), state.values)
        cwd = join(state.cwd, value) if value is not None else None
        return replace(state, cwd=cwd)
    if kw == "USER" and ins.values:
        raw = ins.values[0]
        return replace(state, user=expand(raw, state.values) or raw)
    if kw == "SHELL" and ins.is_json and ins.values:
        return replace(state, shell=tuple(ins.values), shell_kind=classify_shell(ins.values))
    return state


def _declare_args(graph: StageGraph, state: State, ins: Instruction) -> dict[str, Variable]:
    variables = dict(state.variables)
    for word in ins.values:
        name, eq, default = word.partition("=")
        current = variables.get(name)
        if current is not None and current.origin == "ENV":
            continue        # an ENV of the same name wins
        value = expand(unquote(default), state.values) if eq else graph.args.get(name)
        variables[name] = Variable(name, value, "ARG", ins)
    return variables


def home_of(env: Mapping[str, str | None], root: bool) -> str | None:
    """The user's HOME: the variable when set and known, /root for root, else unknown."""
    if "HOME" in env:
        return env["HOME"]
    return "/root" if root else None
