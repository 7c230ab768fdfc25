"""Models of package managers and dependency installers, read from a :class:`SimpleCommand`.

:func:`parse_tool` recognises apt-get/apt, apk, pip (also ``python -m pip``),
uv, pipx, npm, yarn, pnpm, yum/dnf/microdnf/tdnf, zypper, gem, poetry, pipenv,
go, bundle, mvn and composer.  Each model says which manager and subcommand
it is, its flags (global ones and the subcommand's), packages, the files it
names and the ones it reads by convention, and where a flag can be inserted
right after the subcommand word (``apt-get install`` → ``apt-get install -y``).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import cast

from .model import SimpleCommand, Word
from .options import Flag, OptionSpec, parse_arguments
from .parse import Script

__all__ = ["FileArgument", "Package", "ToolCommand", "parse_tool", "tool_commands"]


@dataclass(frozen=True, slots=True)
class Package:
    """A package argument: ``curl=7.88.1-10`` gives name ``curl``, operator ``=``, version ``7.88.1-10``."""

    name: str
    operator: str | None      # '=', '==', '>=', '@', ':', '/', '~', ... None when unversioned
    version: str | None       # what follows the operator (may hold more constraints: '2,<3')
    word: Word


@dataclass(frozen=True, slots=True)
class FileArgument:
    """A file or directory a command names: ``requirements.txt`` of ``-r requirements.txt``."""

    path: str
    word: Word        # the source word (``-rreqs.txt`` when the option is glued on)


@dataclass(frozen=True, slots=True)
class ToolCommand:
    manager: str                          # 'apt-get', 'pip', 'npm', 'dnf', ...
    subcommand: str | None                # canonical: 'install' for `npm i`, 'cache clean', 'mod download'
    subcommand_words: tuple[Word, ...]
    global_flags: tuple[Flag, ...]        # written before the subcommand
    subcommand_flags: tuple[Flag, ...]    # written after it
    operands: tuple[Word, ...]            # non-option words after the subcommand
    packages: tuple[Package, ...]
    files: tuple[FileArgument, ...]       # files/directories it names: -r reqs.txt, ., ./x.deb
    implicit_files: tuple[str, ...]       # conventional files it reads from the working directory
    tool_word: Word                       # `pip` in `python3 -m pip install`
    command: SimpleCommand
    flag_insert_at: int                   # offset just after the subcommand (or tool) word

    @property
    def flags(self) -> tuple[Flag, ...]:
        return self.global_flags + self.subcommand_flags

    def has_flag(self, *names: str) -> bool:
        """Any of the options given is present (``-y`` is found in ``-qy`` too)."""
        return any(f.name in names for f in self.global_flags + self.subcommand_flags)

    def flag(self, *names: str) -> Flag | None:
        return next((f for f in self.flags if f.name in names), None)

    def flag_values(self, *names: str) -> tuple[str | None, ...]:
        return tuple(f.value for f in self.flags if f.name in names)

    def flag_insertion(self, flag: str) -> tuple[int, str]:
        """(offset, text) that inserts ``flag`` right after the subcommand word."""
        return self.flag_insert_at, " " + flag

    @property
    def assumes_yes(self) -> bool | None:
        """Whether it will not stop to ask for confirmation; None for tools that never ask."""
        manager = self.manager
        if manager in ("apt-get", "apt", "aptitude"):
            quiet = sum(2 if f.value == "2" else 1 for f in self.flags if f.name in ("-q", "--quiet"))
            return (self.has_flag("-y", "--yes", "--assume-yes")
                    or quiet >= 2     # apt-get: quiet level 2 implies -y
                    or any((f.value or "").lower().replace(" ", "") in (
                        "apt::get::assume-yes=true", "apt::get::assume-yes=1")
                        for f in self.flags if f.name in ("-o", "--option")))
        if manager in ("yum", "dnf", "microdnf", "tdnf"):
            return self.has_flag("-y", "--assumeyes") or any(
                (f.value or "").replace(" ", "") in ("assumeyes=1", "assumeyes=True", "assumeyes=true")
                for f in self.flags if f.name == "--setopt")
        if manager == "zypper":
            return (any(f.name in ("-n", "--non-interactive") for f in self.global_flags)
                    or self.has_flag("-y", "--no-confirm"))
        return None


def tool_commands(script: Script) -> list[ToolCommand]:
    """Every command of the script that :func:`parse_tool` recognises, in source order."""
    found = []
    for command in script.commands:
        tool = parse_tool(command)
        if tool is not None:
            found.append(tool)
    return found


# --- package specs ---------------------------------------------------------------

def _split(pattern: re.Pattern[str]) -> Callable[[str], tuple[str, str | None, str | None]]:
    def split(spec: str) -> tuple[str, str | None, str | None]:
        match = pattern.match(spec)
        if match is None or not match.group("name"):
            return spec, None, None
        return match.group("name"), match.group("op"), match.group("version")
    return split


_split_apt = _split(re.compile(r"(?P<name>[^=/]+)(?:(?P<op>[=/])(?P<version>.*))?$"))
_split_apk = _split(re.compile(r"(?P<name>[^=<>~@]+)(?:(?P<op>~=|>=|<=|=|~|>|<|@)(?P<version>.*))?$"))
_split_pip = _split(re.compile(
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*"
    r"(?:(?P<op>===|==|~=|!=|>=|<=|>|<|@)\s*(?P<version>[^;]*?))?\s*(?:;.*)?$"))
_split_zypper = _split(re.compile(r"(?P<name>[^=<>]+)(?:(?P<op>>=|<=|=|>|<)(?P<version>.*))?$"))
_split_colon = _split(re.compile(r"(?P<name>[^:=]+)(?:(?P<op>[:=])(?P<version>.*))?$"))
_split_at = _split(re.compile(r"(?P<name>[^@]+)(?:(?P<op>@)(?P<version>.*))?$"))


def _split_npm(spec: str) -> tuple[str, str | None, str | None]:
    # @scope/name@1.2: the first @ belongs to the scope
    if spec.startswith("@"):
        name, at, version = spec[1:].partition("@")
        return "@" + name, "@" if at else None, version if at else None
    name, at, version = spec.partition("@")
    return name, "@" if at else None, version if at else None


def _no_split(spec: str) -> tuple[str, str | None, str | None]:
    # rpm names carry their version with dashes (curl-7.61.1-22.el8): no reliable split
    return spec, None, None


_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git\+|git@|file:)", re.IGNORECASE)
_ARCHIVE_SUFFIXES = (".deb", ".rpm", ".apk", ".whl", ".tar.gz", ".tgz", ".tar.bz2", ".zip", ".gem",
                     ".phar", ".jar")


def _is_local_path(text: str) -> bool:
    """An operand naming a local file or directory rather than a package name."""
    if _URL.match(text):
        return text.lower().startswith("file:")
    path = text.split("[", 1)[0] if text.endswith("]") else text     # pip's `.[ssh]`: a path with extras
    return (path in (".", "..") or path.startswith(("./", "../", "/", "~/")) or path.endswith("/")
            or text.lower().endswith(_ARCHIVE_SUFFIXES))


# --- manager specifications --------------------------------------------------------

@dataclass(frozen=True)
class _Manager:
    manager: str
    global_options: OptionSpec
    options: OptionSpec                               # after the subcommand
    aliases: Mapping[str, str] = field(default_factory=dict)
    groups: frozenset[str] = frozenset()              # subcommands that take a second word: cache clean
    package_subcommands: frozenset[str] = frozenset()
    file_operand_subcommands: frozenset[str] = frozenset()   # operands are files: uv pip sync reqs.txt
    file_options: frozenset[str] = frozenset()        # options whose value names an input file
    split_package: Callable[[str], tuple[str, str | None, str | None]] = _no_split
    implicit: Callable[[str | None, tuple[Flag, ...], tuple[Package, ...]], tuple[str, ...]] = (
        lambda subcommand, flags, packages: ())
    default_subcommand: str | None = None             # what the tool does with no subcommand
    options_before_subcommand_only: bool = False      # mvn-style: no subcommand word at all


def _frozen(*names: str) -> frozenset[str]:
    return frozenset(names)


def _names(flags: tuple[Flag, ...]) -> set[str]:
    return {f.name for f in flags}


_APT_VALUE = _frozen("-o", "--option", "-c", "--config-file", "-t", "--target-release",
                     "--default-release", "-a", "--host-architecture", "-P", "--build-profiles")
_APT = _Manager(
    manager="apt-get",
    global_options=OptionSpec(_APT_VALUE),
    options=OptionSpec(_APT_VALUE),
    package_subcommands=_frozen("install", "reinstall", "remove", "purge", "build-dep", "source",
                                "download", "upgrade", "full-upgrade", "dist-upgrade", "show",
                                "satisfy", "markauto", "hold", "unhold"),
    split_package=_split_apt,
)

_APK_VALUE = _frozen("-t", "--virtual", "-X", "--repository", "-p", "--root", "--keys-dir",
                     "--repositories-file", "--arch", "--cache-dir", "--cache-max-age", "--timeout",
                     "--wait", "--progress-fd")
_APK = _Manager(
    manager="apk",
    global_options=OptionSpec(_APK_VALUE),
    options=OptionSpec(_APK_VALUE),
    package_subcommands=_frozen("add", "del", "fix", "fetch", "upgrade", "info", "policy", "dot"),
    split_package=_split_apk,
)

_PIP_VALUE = _frozen(
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
    "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root", "--src",
    "--trusted-host", "--platform", "--python-version", "--implementation", "--abi",
    "--upgrade-strategy", "--progress-bar", "--log", "--proxy", "--retries", "--timeout",
    "--cache-dir", "--exists-action", "--cert", "--client-cert", "--global-option",
    "--install-option", "--config-settings", "-C", "--only-binary", "--no-binary", "--python",
    "--report", "--root-user-action", "--use-feature", "--use-deprecated", "--keyring-provider",
    "-d", "--dest", "-w", "--wheel-dir", "--build-option", "--format", "--group", "--log-file",
    "--local-log", "--build", "-b")
_PIP = _Manager(
    manager="pip",
    global_options=OptionSpec(_PIP_VALUE),
    options=OptionSpec(_PIP_VALUE),
    groups=_frozen("cache", "config"),
    package_subcommands=_frozen("install", "uninstall", "download", "wheel"),
    file_options=_frozen("-r", "--requirement", "-c", "--constraint", "-e", "--editable"),
    split_package=_split_pip,
)

_UV_VALUE = _frozen(
    "-r", "--requirement", "--requirements", "-c", "--constraint", "--constraints", "--override",
    "--overrides", "-p", "--python", "-i", "--index-url", "--extra-index-url", "--index",
    "--default-index", "-f", "--find-links", "--target", "--prefix", "--cache-dir", "--extra",
    "--group", "--only-group", "--no-group", "--package", "--project", "--directory",
    "--python-platform", "--python-version", "--resolution", "--prerelease", "--index-strategy",
    "--keyring-provider", "-C", "--config-setting", "--exclude-newer", "--link-mode",
    "--reinstall-package", "-P", "--upgrade-package", "--refresh-package", "--no-binary",
    "--only-binary", "--color", "--config-file", "--allow-insecure-host", "--trusted-host",
    "-o", "--output-file", "--with", "--from", "--editable", "-e")
_UV = _Manager(
    manager="uv",
    global_options=OptionSpec(_UV_VALUE),
    options=OptionSpec(_UV_VALUE),
    groups=_frozen("pip", "tool", "python", "cache", "self"),
    package_subcommands=_frozen("pip install", "pip uninstall", "add", "remove", "tool install",
                                "tool run", "pip download"),
    file_operand_subcommands=_frozen("pip sync", "pip compile"),
    file_options=_frozen("-r", "--requirement", "--requirements", "-c", "--constraint",
                         "--constraints", "--override", "--overrides", "-e", "--editable"),
    split_package=_split_pip,
    implicit=lambda sub, flags, packages: (
        ("pyproject.toml", "uv.lock") if sub in ("sync", "lock") else ()),
)

_PIPX = _Manager(
    manager="pipx",
    global_options=OptionSpec(_frozen("--python", "--pip-args", "--index-url", "--suffix", "--spec")),
    options=OptionSpec(_frozen("--python", "--pip-args", "--index-url", "--suffix", "--spec")),
    package_subcommands=_frozen("install", "inject", "run", "upgrade", "uninstall"),
    split_package=_split_pip,
)

_NPM_VALUE = _frozen(
    "--omit", "--include", "--only", "--prefix", "-C", "--registry", "--cache", "--loglevel",
    "-w", "--workspace", "--tag", "--userconfig", "--globalconfig", "--install-strategy",
    "--save-prefix", "--before", "--script-shell", "--location", "--os", "--cpu", "--libc")
_NPM_INSTALL_FILES = ("package.json", "package-lock.json", "npm-shrinkwrap.json")


def _npm_implicit(sub: str | None, flags: tuple[Flag, ...],
                  packages: tuple[Package, ...]) -> tuple[str, ...]:
    if sub == "ci" or (sub == "install" and not packages and not _names(flags) & {"-g", "--global"}):
        return _NPM_INSTALL_FILES
    return ()


_NPM = _Manager(
    manager="npm",
    global_options=OptionSpec(_NPM_VALUE, clustering=False),
    options=OptionSpec(_NPM_VALUE, clustering=False),
    aliases=MappingProxyType({
        **{a: "install" for a in ("i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta",
                                  "isntal", "isntall", "add")},
        **{a: "ci" for a in ("clean-install", "ic", "install-clean", "isntall-clean")},
        **{a: "uninstall" for a in ("un", "unlink", "remove", "rm", "r")},
        **{a: "update" for a in ("up", "upgrade", "udpate")},
        "run-script": "run", "rum": "run", "urn": "run", "x": "exec",
    }),
    groups=_frozen("cache", "config"),
    package_subcommands=_frozen("install", "uninstall", "update", "exec"),
    split_package=_split_npm,
    implicit=_npm_implicit,
)

_YARN_VALUE = _frozen("--cwd", "--modules-folder", "--cache-folder", "--network-timeout", "--mutex",
                      "--registry", "--global-folder", "--link-folder", "--network-concurrency",
                      "--mode")
_YARN = _Manager(
    manager="yarn",
    global_options=OptionSpec(_YARN_VALUE, clustering=False),
    options=OptionSpec(_YARN_VALUE, clustering=False),
    groups=_frozen("cache", "global", "workspaces", "config"),
    package_subcommands=_frozen("add", "remove", "upgrade", "global add", "global remove", "dlx"),
    split_package=_split_npm,
    implicit=lambda sub, flags, packages: (("package.json", "yarn.lock") if sub == "install" else ()),
    default_subcommand="install",
)

_PNPM_VALUE = _frozen("-F", "--filter", "-C", "--dir", "--store-dir", "--reporter", "--registry",
                      "--virtual-store-dir", "--modules-dir", "--config")
_PNPM = _Manager(
    manager="pnpm",
    global_options=OptionSpec(_PNPM_VALUE, clustering=False),
    options=OptionSpec(_PNPM_VALUE, clustering=False),
    aliases=MappingProxyType({"i": "install", "rm": "remove", "uninstall": "remove", "un": "remove",
                              "up": "update", "upgrade": "update", "it": "install-test",
                              "run-script": "run"}),
    groups=_frozen("store", "config"),
    package_subcommands=_frozen("add", "remove", "update"),
    split_package=_split_npm,
    implicit=lambda sub, flags, packages: (
        ("package.json", "pnpm-lock.yaml") if sub == "install"
        else ("pnpm-lock.yaml",) if sub == "fetch" else ()),
    default_subcommand="install",
)

_RPM_VALUE = _frozen(
    "--setopt", "--enablerepo", "--disablerepo", "--repo", "--repoid", "--installroot",
    "--releasever", "-x", "--exclude", "-c", "--config", "--downloaddir", "--destdir",
    "--forcearch", "--color", "--rpmverbosity", "-d", "--debuglevel", "-e", "--errorlevel",
    "--advisory", "--advisories", "--bz", "--cve", "--sec-severity", "--disableplugin",
    "--enableplugin", "--comment", "--repofrompath", "--noplugins-except")
_RPM = _Manager(
    manager="dnf",
    global_options=OptionSpec(_RPM_VALUE),
    options=OptionSpec(_RPM_VALUE),
    aliases=MappingProxyType({"in": "install", "rm": "remove", "erase": "remove", "up": "upgrade",
                              "localinstall": "install", "groupinstall": "group install",
                              "groupupdate": "group update", "groupremove": "group remove",
                              "mc": "makecache", "rei": "reinstall", "dsync": "distro-sync"}),
    groups=_frozen("module", "group", "groups"),
    package_subcommands=_frozen("install", "reinstall", "remove", "update", "upgrade", "downgrade",
                                "autoremove", "group install", "group update", "group remove",
                                "module install", "module enable", "module disable",
                                "module reset", "swap", "download", "builddep"),
    split_package=_no_split,
)

_ZYPPER_GLOBAL = _frozen("-R", "--root", "-c", "--config", "-D", "--reposd-dir", "-C", "--cache-dir",
                         "--raw-cache-dir", "--solv-cache-dir", "--pkg-cache-dir", "--userdata")
_ZYPPER = _Manager(
    manager="zypper",
    global_options=OptionSpec(_ZYPPER_GLOBAL),
    options=OptionSpec(_frozen("-t", "--type", "-r", "--repo", "--from", "-p", "--priority",
                               "-n", "--name")),
    aliases=MappingProxyType({"in": "install", "rm": "remove", "up": "update",
                              "dup": "dist-upgrade", "ref": "refresh", "cc": "clean",
                              "ar": "addrepo", "rr": "removerepo", "se": "search", "lr": "repos",
                              "mr": "modifyrepo", "ve": "verify", "pa": "packages",
                              "if": "info", "al": "addlock", "rl": "removelock"}),
    package_subcommands=_frozen("install", "remove", "update", "info", "addlock", "removelock",
                                "source-install"),
    split_package=_split_zypper,
)

_GEM_VALUE = _frozen("-v", "--version", "-s", "--source", "-i", "--install-dir", "-n", "--bindir",
                     "--platform", "-P", "--trust-policy", "-g", "--file", "--build-root")
_GEM = _Manager(
    manager="gem",
    global_options=OptionSpec(_GEM_VALUE),
    options=OptionSpec(_GEM_VALUE),
    aliases=MappingProxyType({"i": "install"}),
    package_subcommands=_frozen("install", "uninstall", "update", "fetch"),
    split_package=_split_colon,
)

_POETRY_VALUE = _frozen("-C", "--directory", "-P", "--project", "--only", "--with", "--without",
                        "-E", "--extras", "--source", "-G", "--group", "--python", "-o",
                        "--output", "-f", "--format")
_POETRY = _Manager(
    manager="poetry",
    global_options=OptionSpec(_POETRY_VALUE),
    options=OptionSpec(_POETRY_VALUE),
    groups=_frozen("self", "env", "source", "cache", "config", "debug"),
    package_subcommands=_frozen("add", "remove", "self add"),
    split_package=_split_pip,
    implicit=lambda sub, flags, packages: (
        ("pyproject.toml", "poetry.lock") if sub in ("install", "sync", "lock", "export")
        else ("pyproject.toml",) if sub in ("add", "remove", "build") else ()),
)

_PIPENV_VALUE = _frozen("--python", "--pypi-mirror", "-r", "--requirements", "--categories",
                        "--extra-pip-args")
_PIPENV = _Manager(
    manager="pipenv",
    global_options=OptionSpec(_PIPENV_VALUE),
    options=OptionSpec(_PIPENV_VALUE),
    package_subcommands=_frozen("install", "uninstall", "upgrade"),
    file_options=_frozen("-r", "--requirements"),
    split_package=_split_pip,
    implicit=lambda sub, flags, packages: (
        ("Pipfile", "Pipfile.lock")
        if sub == "sync" or (sub == "install" and not packages and not _names(flags) & {"-r", "--requirements"})
        else ()),
)

_GO_VALUE = _frozen("-o", "-ldflags", "-gcflags", "-asmflags", "-tags", "-mod", "-modfile", "-p",
                    "-pkgdir", "-buildmode", "-compiler", "-installsuffix", "-overlay", "-pgo",
                    "-toolexec", "-exec", "-run", "-timeout", "-bench", "-count", "-coverprofile",
                    "-covermode", "-C", "-json", "-gccgoflags", "-coverpkg", "-buildvcs")
_GO = _Manager(
    manager="go",
    global_options=OptionSpec(_GO_VALUE, clustering=False),
    options=OptionSpec(_GO_VALUE, clustering=False),
    groups=_frozen("mod", "work", "tool"),
    package_subcommands=_frozen("install", "get"),
    split_package=_split_at,
    implicit=lambda sub, flags, packages: (
        ("go.mod", "go.sum") if sub in ("mod download", "mod tidy", "mod verify", "mod vendor")
        else ()),
)

_BUNDLE_VALUE = _frozen("-j", "--jobs", "--retry", "--without", "--with", "--path", "--gemfile",
                        "--binstubs", "--shebang", "--trust-policy", "--target-rbconfig")
_BUNDLE = _Manager(
    manager="bundle",
    global_options=OptionSpec(_BUNDLE_VALUE),
    options=OptionSpec(_BUNDLE_VALUE),
    groups=_frozen("config"),
    file_options=_frozen("--gemfile"),
    implicit=lambda sub, flags, packages: (
        ("Gemfile", "Gemfile.lock")
        if sub in ("install", "update", "lock", "check", None) and "--gemfile" not in _names(flags)
        else ()),
    default_subcommand="install",
)

_MVN_VALUE = _frozen("-f", "--file", "-s", "--settings", "-gs", "--global-settings", "-t",
                     "--toolchains", "-T", "--threads", "-pl", "--projects", "-rf", "--resume-from",
                     "-l", "--log-file", "-b", "--builder", "-P", "--activate-profiles", "-D",
                     "--define", "-gt", "--global-toolchains", "-emp", "--encrypt-master-password",
                     "-ep", "--encrypt-password")
_MVN = _Manager(
    manager="mvn",
    global_options=OptionSpec(_MVN_VALUE, clustering=False, attached=("-D", "-P")),
    options=OptionSpec(_MVN_VALUE, clustering=False, attached=("-D", "-P")),
    file_options=_frozen("-f", "--file", "-s", "--settings"),
    implicit=lambda sub, flags, packages: (
        () if _names(flags) & {"-f", "--file"} else ("pom.xml",)),
    options_before_subcommand_only=True,
)

_COMPOSER_VALUE = _frozen("-d", "--working-dir", "--prefer-install", "--ignore-platform-req")
_COMPOSER = _Manager(
    manager="composer",
    global_options=OptionSpec(_COMPOSER_VALUE),
    options=OptionSpec(_COMPOSER_VALUE),
    aliases=MappingProxyType({"i": "install", "u": "update", "upgrade": "update", "r": "require",
                              "req": "require", "rm": "remove", "dumpautoload": "dump-autoload"}),
    groups=_frozen("global", "config"),
    package_subcommands=_frozen("require", "remove", "update", "global require", "global remove"),
    split_package=_split_colon,
    implicit=lambda sub, flags, packages: (
        ("composer.json", "composer.lock") if sub == "install"
        else ("composer.json",) if sub in ("update", "require", "remove", "dump-autoload") else ()),
)

_BY_PROGRAM: dict[str, _Manager] = {
    "apt-get": _APT, "apt": _APT, "aptitude": _APT, "apk": _APK,
    "uv": _UV, "pipx": _PIPX, "npm": _NPM, "yarn": _YARN, "yarnpkg": _YARN, "pnpm": _PNPM,
    "yum": _RPM, "dnf": _RPM, "microdnf": _RPM, "tdnf": _RPM, "dnf5": _RPM, "zypper": _ZYPPER,
    "gem": _GEM, "poetry": _POETRY, "pipenv": _PIPENV, "go": _GO,
    "bundle": _BUNDLE, "bundler": _BUNDLE, "mvn": _MVN, "mvnw": _MVN,
    "composer": _COMPOSER, "composer.phar": _COMPOSER,
}
_PIP_PROGRAM = re.compile(r"pip(?:\d+(?:\.\d+)*)?$")
_PYTHON_PROGRAM = re.compile(r"python(?:\d+(?:\.\d+)*)?$|py$|pypy3?$")
# `python -m <module>` for the modules that are one of the tools above
_PYTHON_MODULES = {"pip": _PIP, "pip3": _PIP, "pipx": _PIPX, "poetry": _POETRY,
                   "pipenv": _PIPENV, "uv": _UV}
_PYTHON_VALUE_OPTIONS = frozenset({"-W", "-X", "-c", "--check-hash-based-pycs"})
# a manager named by its program: the one that stays in `manager` (dnf vs yum, apt vs apt-get)
_KEEP_PROGRAM_NAME = frozenset({"apt-get", "apt", "aptitude", "yum", "dnf", "microdnf", "tdnf",
                                "dnf5"})


_NOT_A_TOOL = ("not a tool",)  # parse_tool's memo for None (the memo's own default is None: not asked yet)


def parse_tool(command: SimpleCommand) -> ToolCommand | None:
    """Model ``command`` if it runs one of the known package managers / dependency tools."""
    memo = command.tool_memo
    if memo is None:
        tool = _parse_tool(command)
        object.__setattr__(command, "tool_memo", _NOT_A_TOOL if tool is None else tool)  # frozen: a memo only
        return tool
    return None if memo is _NOT_A_TOOL else cast(ToolCommand, memo)


def _parse_tool(command: SimpleCommand) -> ToolCommand | None:
    program = command.program
    if program is None:
        return None
    args = command.args
    tool_word = command.name_word
    assert tool_word is not None
    spec = _BY_PROGRAM.get(program)
    manager = program if program in _KEEP_PROGRAM_NAME else None
    if spec is None:
        if _PIP_PROGRAM.match(program):
            spec = _PIP
        elif _PYTHON_PROGRAM.match(program):
            module_at = _python_module(args)
            if module_at is None:
                return None
            tool_word = args[module_at]
            spec = _PYTHON_MODULES.get(tool_word.text or "")
            if spec is None:
                return None
            args = args[module_at + 1:]
        else:
            return None
    return _model(spec, manager or spec.manager, command, tool_word, args)


def _python_module(args: tuple[Word, ...]) -> int | None:
    """Index in args of the module word of `python [opts] -m module`."""
    index = 0
    while index < len(args):
        text = args[index].text
        if text is None:
            return None
        if text == "-m":
            return index + 1 if index + 1 < len(args) else None
        if text.startswith("-m") and len(text) > 2:
            return None      # -mpip: rare, and then args[index] is not a word of its own
        if not text.startswith("-"):
            return None      # python script.py
        index += 2 if text in _PYTHON_VALUE_OPTIONS else 1
    return None


def _model(spec: _Manager, manager: str, command: SimpleCommand, tool_word: Word,
           args: tuple[Word, ...]) -> ToolCommand:
    if spec.options_before_subcommand_only:
        parsed = parse_arguments(args, spec.global_options)
        operands = parsed.operands
        subcommand = operands[0].text if operands else None
        return _finish(spec, manager, command, tool_word, subcommand, (), (), parsed.flags,
                       operands, tool_word.end)
    head = parse_arguments(args, spec.global_options, stop_at_operand=True)
    global_flags = head.flags
    if head.stopped_at is None:
        # options only: `yarn --frozen-lockfile`, `bundle --jobs 4`
        # a new flag goes right after the tool word
        return _finish(spec, manager, command, tool_word, spec.default_subcommand, (), global_flags,
                       (), (), tool_word.end)
    rest = args[head.stopped_at:]
    first = rest[0]
    first_text = first.text
    sub_words: tuple[Word, ...] = (first,)
    subcommand = spec.aliases.get(first_text, first_text) if first_text is not None else None
    if subcommand in spec.groups and len(rest) > 1 and rest[1].text is not None \
            and not rest[1].text.startswith("-"):
        second = rest[1]
        sub_words = (first, second)
        second_text = second.text or ""
        subcommand = spec.aliases.get(f"{subcommand} {second_text}", f"{subcommand} {second_text}")
    tail = parse_arguments(rest[len(sub_words):], spec.options)
    return _finish(spec, manager, command, tool_word, subcommand, sub_words, global_flags,
                   tail.flags, tail.operands, sub_words[-1].end)


def _finish(spec: _Manager, manager: str, command: SimpleCommand, tool_word: Word,
            subcommand: str | None, sub_words: tuple[Word, ...], global_flags: tuple[Flag, ...],
            flags: tuple[Flag, ...], operands: tuple[Word, ...], insert_at: int) -> ToolCommand:
    all_flags = global_flags + flags
    files = _option_files(spec, all_flags)
    packages: list[Package] = []
    effective = subcommand if subcommand is not None else spec.default_subcommand
    if effective in spec.file_operand_subcommands:
        files.extend(FileArgument(w.text, w) for w in operands if w.text is not None)
    elif effective in spec.package_subcommands:
        packages = _operand_packages(spec, manager, operands, all_flags, files)
    implicit = spec.implicit(effective, all_flags, tuple(packages))
    return ToolCommand(
        manager=manager, subcommand=subcommand, subcommand_words=sub_words,
        global_flags=global_flags, subcommand_flags=flags, operands=operands,
        packages=tuple(packages), files=tuple(files), implicit_files=implicit,
        tool_word=tool_word, command=command, flag_insert_at=insert_at)


def _option_files(spec: _Manager, flags: tuple[Flag, ...]) -> list[FileArgument]:
    files: list[FileArgument] = []
    for flag in flags:
        if flag.name in spec.file_options and flag.value_word is not None and flag.value is not None:
            if flag.name in ("-e", "--editable") and not _is_local_path(flag.value):
                continue          # pip -e git+https://...: a remote project, not a file here
            files.append(FileArgument(flag.value, flag.value_word))
    return files


def _operand_packages(spec: _Manager, manager: str, operands: tuple[Word, ...],
                      flags: tuple[Flag, ...], files: list[FileArgument]) -> list[Package]:
    """The packages among an install's operands; local paths among them go to `files`."""
    packages: list[Package] = []
    for word in operands:
        text = word.text
        if text is None:
            continue
        if _is_local_path(text):
            files.append(FileArgument(text, word))
            continue
        name, operator, version = spec.split_package(text)
        packages.append(Package(name, operator, version, word))
    if manager == "gem" and len(packages) == 1 and packages[0].operator is None:
        # gem install rails -v 7.1: the version is an option
        version = next((f.value for f in flags if f.name in ("-v", "--version")), None)
        if version is not None:
            packages[0] = Package(packages[0].name, "-v", version, packages[0].word)
    return packages
