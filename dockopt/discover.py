"""Which files a run reads: the paths named, and the Dockerfiles found in named directories.

A directory walk skips what git would not track (the ``.gitignore`` files of a git repository,
from its root down, read with ``pathspec`` as git reads them), what ``exclude`` patterns name
(gitignore-style, from ``--exclude`` relative to the current directory and from the
configuration relative to its file), and a few directories that never hold a project's own
Dockerfiles (``.git``, ``node_modules``, virtualenvs, caches). A path named on the command line
is always read, unless ``--force-exclude`` applies the excludes to it too (what pre-commit,
which names every file, needs).
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache",
                       ".ruff_cache", ".pytest_cache"})
DOCKERFILE_NAMES = ("dockerfile", "containerfile")
PATTERNS_HELP = "Dockerfile, Dockerfile.*, *.Dockerfile, *.dockerfile, Containerfile"


def is_dockerfile_name(name: str) -> bool:
    low = name.lower()
    if low in DOCKERFILE_NAMES:
        return True
    if low.startswith(("dockerfile.", "dockerfile-", "dockerfile_", "containerfile.")):
        return not low.endswith((".md", ".dockerignore", ".txt", ".sh", ".yml", ".yaml", ".json"))
    return low.endswith((".dockerfile", ".containerfile"))


@dataclass
class _Rules:
    """gitignore-style patterns anchored at a directory."""

    root: Path
    spec: Any  # pathspec.GitIgnoreSpec

    def matches(self, path: Path, is_dir: bool) -> bool:
        try:
            rel = path.relative_to(self.root).as_posix()
        except ValueError:
            return False
        if rel == ".":
            return False
        return bool(self.spec.match_file(rel + "/" if is_dir else rel))


def _spec(lines: Iterable[str]) -> Any:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


def _repository_root(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


@dataclass
class Discovery:
    excludes: Sequence[str] = ()          # from --exclude, relative to the current directory
    respect_gitignore: bool = True
    force_exclude: bool = False
    config: str | None = None             # --config: its `exclude` applies everywhere
    warnings: list[str] = field(default_factory=list)
    _config_rules: dict[Path, _Rules | None] = field(default_factory=dict)

    def paths(self, paths: Sequence[str]) -> Iterator[str]:
        cli = _Rules(Path.cwd().resolve(), _spec(self.excludes)) if self.excludes else None
        for p in paths:
            if p == "-":
                yield p
                continue
            path = Path(p)
            if not path.is_dir():
                if self.force_exclude and path.exists() and self._excluded(path.resolve(), False, cli, []):
                    continue
                yield p  # a missing file is reported by the reader
                continue
            found = False
            for name in self._walk(path, cli):
                found = True
                yield name
            if not found:
                self.warnings.append(f"no Dockerfile found under {p} (looked for {PATTERNS_HELP}, "
                                     "skipping what .gitignore and the excludes name)")

    def _walk(self, top: Path, cli: _Rules | None) -> Iterator[str]:
        root = top.resolve()
        repo = _repository_root(root) if self.respect_gitignore else None
        # git's own rules apply only inside a repository: .git/info/exclude, then every
        # .gitignore from the repository root down to the walk's root, then those below
        inherited = [r for r in (self._rules_file(repo / ".git" / "info" / "exclude", repo) if repo else None,
                                 *(self._gitignore(d) for d in self._dirs_between(repo, root))) if r is not None]
        stack: list[tuple[Path, list[_Rules]]] = [(top, inherited)]
        while stack:
            directory, rules = stack.pop()
            real = directory.resolve()
            if repo is not None and real != root:
                own = self._gitignore(real)
                if own is not None:
                    rules = [*rules, own]
            try:
                entries = sorted(os.scandir(directory), key=lambda e: e.name)
            except OSError as exc:
                self.warnings.append(f"cannot read {directory}: {exc.strerror or exc}")
                continue
            subdirs = []
            for entry in entries:
                is_dir = entry.is_dir()
                if is_dir and entry.name in SKIP_DIRS:
                    continue
                full = real / entry.name
                if self._excluded(full, is_dir, cli, rules):
                    continue
                if is_dir:
                    subdirs.append((directory / entry.name, rules))
                elif is_dockerfile_name(entry.name):
                    yield str(directory / entry.name)
            stack.extend(reversed(subdirs))

    @staticmethod
    def _dirs_between(repo: Path | None, root: Path) -> list[Path]:
        """The repository root and every directory down to (and with) the walk's root."""
        if repo is None:
            return []
        dirs = [root, *root.parents]
        return list(reversed(dirs[:dirs.index(repo) + 1]))

    @classmethod
    def _gitignore(cls, directory: Path) -> _Rules | None:
        return cls._rules_file(directory / ".gitignore", directory)

    @staticmethod
    def _rules_file(path: Path, root: Path) -> _Rules | None:
        try:
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
        except OSError:
            return None
        return _Rules(root, _spec(text.splitlines()))

    def _excluded(self, path: Path, is_dir: bool, cli: _Rules | None, rules: list[_Rules]) -> bool:
        if cli is not None and cli.matches(path, is_dir):
            return True
        configured = self._configured(path.parent)
        if configured is not None and configured.matches(path, is_dir):
            return True
        return any(r.matches(path, is_dir) for r in rules)

    def _configured(self, directory: Path) -> _Rules | None:
        """The `exclude` patterns of the configuration that governs this directory."""
        if directory in self._config_rules:
            return self._config_rules[directory]
        from .config import ConfigError, find_config_file, load_config_file

        rules = None
        try:
            config = Path(self.config) if self.config else find_config_file(directory)
            settings = load_config_file(config) if config is not None else None
        except ConfigError:
            settings = None  # reported for each file the configuration governs
        if config is not None and settings is not None and settings.exclude:
            rules = _Rules(config.resolve().parent, _spec(settings.exclude))
        self._config_rules[directory] = rules
        return rules


def discover(paths: Sequence[str]) -> Iterator[str]:
    """The files a run would read for these paths (with the default settings)."""
    return Discovery().paths(paths)
