"""What an installer reads besides its manifests, which hoisting it above the source copy would
take away: the files its options, its environment variables and its configuration files name.

A hoisted install runs before the source copy, with only its manifests copied. It still reads
what its options name (`--find-links ./wheels`, `--index-url file:///app/mirror`, `--userconfig
/app/.npmrc.ci`), what the variables it reads name (`PIP_FIND_LINKS`, `PIP_CONSTRAINT`,
`PIP_CONFIG_FILE`, `PIP_INDEX_URL`, `UV_*`, `npm_config_*`, `YARN_RC_FILENAME`, `BUNDLE_GEMFILE`,
`BUNDLE_CACHE_PATH`, `COMPOSER`, `GOFLAGS=-modfile=...`, `MAVEN_ARGS`, `CARGO_*`), and its
configuration files where the tool looks for them (`/etc/pip.conf`, `~/.config/pip/pip.conf`,
`/root/.npmrc`, `/usr/local/etc/npmrc`, `~/.bundle/config`, `~/.m2/settings.xml`, ...). When
one of those is a file the source copy brings and the install does not copy with its manifests,
the install must stay where it is (`Reject`).
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from ..facts.paths import join
from ..shell import ToolCommand
from .common import Install, InstallSite, Reject

__all__ = ["check_inputs"]

# the variables each installer reads, by prefix (names compare without case for npm's)
_VARIABLES = {
    "pip": ("PIP_",), "uv": ("UV_", "PIP_"), "poetry": ("POETRY_", "PIP_"), "pipenv": ("PIPENV_", "PIP_"),
    "npm": ("NPM_CONFIG_", "NODE_EXTRA_CA_CERTS"), "yarn": ("YARN_", "NPM_CONFIG_", "NODE_EXTRA_CA_CERTS"),
    "pnpm": ("PNPM_", "NPM_CONFIG_", "NODE_EXTRA_CA_CERTS"),
    "bundle": ("BUNDLE_", "GEM_"), "gem": ("GEM_",), "composer": ("COMPOSER",), "go": ("GO",),
    "mvn": ("MAVEN_",), "cargo": ("CARGO_",),
}
# configuration files each installer reads from a fixed place (~ is HOME)
_CONFIG_FILES = {
    "pip": ("/etc/pip.conf", "/etc/xdg/pip/pip.conf", "~/.pip/pip.conf", "~/.config/pip/pip.conf"),
    "uv": ("/etc/uv/uv.toml", "~/.config/uv/uv.toml", "/etc/pip.conf", "~/.config/pip/pip.conf"),
    "poetry": ("~/.config/pypoetry/config.toml", "/etc/pip.conf", "~/.config/pip/pip.conf"),
    "pipenv": ("/etc/pip.conf", "~/.config/pip/pip.conf"),
    "npm": ("~/.npmrc", "/usr/local/etc/npmrc", "/etc/npmrc"),
    "yarn": ("~/.yarnrc", "~/.yarnrc.yml", "~/.npmrc"),
    "pnpm": ("~/.npmrc", "~/.config/pnpm/rc", "/usr/local/etc/npmrc"),
    "bundle": ("~/.bundle/config", "/usr/local/bundle/config"),
    "composer": ("~/.composer/config.json", "~/.composer/auth.json", "~/.config/composer/config.json"),
    "mvn": ("~/.m2/settings.xml", "/usr/share/maven/conf/settings.xml"),
    "cargo": ("~/.cargo/config.toml", "~/.cargo/config"),
}
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_SPLIT = re.compile(r"[\s,;]+")


def check_inputs(tool: ToolCommand, site: InstallSite, inst: Install) -> None:
    """Reject the install when it reads a file of the source copy that it does not copy first."""
    copied = {img for _c, img in inst.manifests}
    for origin, image_path in _named_paths(tool, site):
        rel = site.copy.context_entry(image_path)
        if rel is None or not site.copy.files.sent(rel) or image_path in copied:
            continue
        raise Reject(f"{origin} names {rel}, which only the source copy brings", show=True)


def _named_paths(tool: ToolCommand, site: InstallSite) -> Iterator[tuple[str, str]]:
    """(what names it, image path) for every path the install's options, variables and
    configuration files name."""
    cwd = site.cwd
    for flag in tool.flags:
        for path in _paths(flag.value or "", cwd):
            yield f"{flag.name}", path
    prefixes = _VARIABLES.get(tool.manager, ())
    for name, value in _env(tool, site.env).items():
        if value and any(name.upper().startswith(p) for p in prefixes):
            for path in _paths(value, cwd):
                yield name, path
    home = site.env.get("HOME") or "/root"
    for config in _CONFIG_FILES.get(tool.manager, ()):
        yield config, (home + config[1:]) if config.startswith("~") else config


def _env(tool: ToolCommand, env: Mapping[str, str | None]) -> dict[str, str | None]:
    out = dict(env)
    for a in tool.command.assignments:
        out[a.name] = a.value.text if a.value is not None else ""
    return out


def _paths(value: str, cwd: str | None) -> Iterator[str]:
    """The image paths a value may name: each word, an option's value (`-modfile=x`), a file URL."""
    for word in _SPLIT.split(value):
        word = word.split("=", 1)[1] if word.startswith("-") and "=" in word else word
        if word.startswith("file://"):
            word = word[len("file://"):]
        elif _URL.match(word) or not word or word.startswith("-") or "$" in word:
            continue
        path = join(cwd, word)
        if path is not None:
            yield path
