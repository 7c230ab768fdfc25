"""C and C++: what a compiler links and what make builds and installs, read from the Makefile."""
from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..facts.paths import clean, join
from ..shell import SPECS, SimpleCommand, Word, compiler_output, parse_arguments, parse_copy, parse_script
from .common import CannotTell, Project, command_text

__all__ = ["C_RUNTIME_READERS", "Makefile", "compiler_outputs", "install_destinations", "make_outputs",
           "read_makefile"]

# C/C++ calls that open a file by a path literal at run time
C_RUNTIME_READERS = re.compile(r'\b(?:fopen|open|opendir|std::ifstream\s+\w+|ifstream)\s*\(\s*"([^"/][^"]*)"')

# variables that say where `make install` puts things
_PATH_VARIABLES = frozenset({"PREFIX", "prefix", "DESTDIR", "BINDIR", "bindir", "exec_prefix", "INSTALL_PREFIX",
                             "SBINDIR"})
_MAKE_REFERENCE = re.compile(r"\$\(([A-Za-z_@<^][A-Za-z0-9_]*)\)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([@<^])")
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+|override\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(\?=|:=|::=|\+=|=)\s*(.*)$")
_RULE = re.compile(r"^([^:=\t][^:=]*?)\s*::?(?!=)\s*(.*)$")


@dataclass
class Makefile:
    variables: dict[str, str]
    rules: dict[str, list[str]]       # target -> recipe lines
    first_target: str | None
    phony: set[str]

    def expand(self, text: str, extra: Mapping[str, str], target: str | None = None, depth: int = 0) -> str:
        if depth > 10:
            return text

        def sub(m: re.Match[str]) -> str:
            name = m.group(1) or m.group(2) or m.group(3)
            if name == "@" and target:
                return target
            if name in extra:
                return extra[name]
            if name in self.variables:
                return self.expand(self.variables[name], extra, target, depth + 1)
            return ""
        return _MAKE_REFERENCE.sub(sub, text)


def read_makefile(text: str) -> Makefile:
    mk = Makefile({}, {}, None, set())
    current: list[str] | None = None
    for line in text.replace("\\\n", " ").splitlines():
        if line.startswith("\t"):
            if current is not None:
                current.append(line.strip())
            continue
        stripped = line.split("#", 1)[0].rstrip()
        current = _read_line(mk, stripped) if stripped.strip() else current
    return mk


def _read_line(mk: Makefile, stripped: str) -> list[str] | None:
    """Read a variable or a rule line into `mk`; the recipe that the next tab lines belong to."""
    m = _ASSIGNMENT.match(stripped)
    if m:
        name, op, value = m.groups()
        if op == "+=":
            mk.variables[name] = (mk.variables.get(name, "") + " " + value).strip()
        elif op != "?=" or name not in mk.variables:
            mk.variables[name] = value.strip()
        return None
    m = _RULE.match(stripped)
    if not m:
        return None
    targets = m.group(1).split()
    if ".PHONY" in targets:
        mk.phony |= set(m.group(2).split())
        return None
    recipe: list[str] = []
    for t in targets:
        mk.rules.setdefault(t, recipe)
        if mk.first_target is None and not t.startswith(".") and "%" not in t:
            mk.first_target = t
    return mk.rules[targets[0]] if targets else None


def install_destinations(mk: Makefile, target: str, extra: Mapping[str, str]) -> list[tuple[str, str]]:
    """(source, absolute destination file) pairs that the `install`/`cp` commands of the recipe
    of `target` write."""
    out = []
    for line in mk.rules.get(target, []):
        text = mk.expand(line.lstrip("@-+"), extra, target)
        for command in parse_script(text).commands:
            copy = parse_copy(command) if command.program in ("install", "cp") else None
            if copy is None:
                continue
            out += [(s, clean(d)) for s, d in copy.pairs if d.startswith("/")]
    return out


def make_outputs(command: SimpleCommand, cwd: str | None, env: Mapping[str, str | None],
                 project: Project) -> list[str]:
    """What `make [goals]` builds (the goals, or the first target) or installs (read from the recipe)."""
    parsed = parse_arguments(command.args, SPECS["make"])
    mkfile = "Makefile"
    for f in parsed.flags:
        if f.name in ("-C", "--directory"):
            cwd = join(cwd, f.value)
        if f.name in ("-f", "--file", "--makefile"):
            mkfile = f.value or mkfile
    if cwd is None:
        raise CannotTell("the directory make runs in is only known at build time")
    goals, overrides = _goals(command, parsed.operands)
    mk = _makefile(project, cwd, mkfile)
    extra = {**{k: v for k, v in env.items() if v is not None and k not in mk.variables}, **overrides}
    extra.setdefault("DESTDIR", "")
    outs: list[str] = []
    targets: list[str | None] = list(goals) if goals else [mk.first_target]
    for goal in targets:
        if goal is not None and goal.startswith("install"):
            dests = install_destinations(mk, goal, extra)
            if not dests:
                raise CannotTell(f"cannot tell what `make {goal}` installs from the Makefile")
            outs += [d for _s, d in dests]
            continue
        if goal is None or goal in mk.phony or goal in ("all", "clean", "check", "test"):
            continue   # `all` builds its prerequisites: they come from the rules, not the goal
        name = mk.expand(goal, extra)
        target = join(cwd, name) if name and "%" not in name else None
        if target is not None:
            outs.append(target)
    return outs


def _goals(command: SimpleCommand, operands: tuple[Word, ...]) -> tuple[list[str], dict[str, str]]:
    goals: list[str] = []
    overrides: dict[str, str] = {}
    for w in operands:
        if w.text is None:
            raw = w.raw.lstrip("\"'")
            if raw.startswith("-"):
                continue           # -j"$(nproc)" and the like
            name = raw.split("=", 1)[0] if "=" in raw else None
            if name is None or name in _PATH_VARIABLES:
                raise CannotTell(f"`{command_text(command)}` has words only known at build time")
            continue
        if "=" in w.text:
            k, _, v = w.text.partition("=")
            overrides[k] = v
        else:
            goals.append(w.text)
    return goals, overrides


def _makefile(project: Project, cwd: str, name: str) -> Makefile:
    ctx_dir = project.context_path(cwd)
    if ctx_dir is not None:
        for candidate in ([name] if name != "Makefile" else ["GNUmakefile", "makefile", "Makefile"]):
            text = project.files.sent_text(posixpath.join(ctx_dir, candidate))
            if text is not None:
                return read_makefile(text)
    raise CannotTell(f"make builds from a Makefile that the build context does not show ({cwd})")


def compiler_outputs(command: SimpleCommand, cwd: str | None) -> list[str]:
    """The program a C/C++ compiler links, as an image path."""
    output = compiler_output(command)
    if output is None:
        return []
    target = join(cwd, output) if output != "$" else None
    if target is None:
        raise CannotTell("the output of the compiler is only known at build time")
    return [target]
