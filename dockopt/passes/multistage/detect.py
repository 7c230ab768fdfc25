"""Which language a single-stage build compiles in the image it ships, and the evidence."""
from __future__ import annotations

from ...ecosystems import system
from ...facts import images
from ...shell import ToolCommand, parse_tool
from ...syntax import Instruction
from .model import RunCommand

__all__ = ["WEB_ROOTS", "build_packages", "detect", "installs", "is_system_install", "node_build_script",
           "pip_install", "removed_packages", "words"]

WEB_ROOTS = {"nginx": "/usr/share/nginx/html", "httpd": "/usr/local/apache2/htdocs"}
_GRADLE_TASKS = frozenset({"build", "assemble", "bootJar", "jar", "shadowJar", "installDist", "bootDistTar",
                           "distTar", "distZip"})
_NODE_RUNNERS = frozenset({"npm", "yarn", "pnpm"})
_CC = frozenset({"gcc", "cc", "g++", "c++", "clang", "clang++", "tcc", "musl-gcc"})
_PACKAGING_TOOLS = frozenset({"pip", "setuptools", "wheel", "virtualenv", "pipenv", "poetry", "uv", "pipx",
                              "pip-tools"})
_NODE_BUILD_PREFIXES = ("build:", "build-", "compile", "bundle", "dist", "export", "generate")
_NOT_SCRIPTS = frozenset({"install", "add", "global", "cache", "remove", "config", "upgrade", "dlx", "exec", "start",
                          "test"})


def words(rc: RunCommand) -> list[str | None]:
    return [w.text for w in rc.command.args]


def is_system_install(rc: RunCommand) -> bool:
    """apt-get/apt/aptitude/apk, whatever the subcommand."""
    tool = parse_tool(rc.command)
    return tool is not None and tool.manager in system.SYSTEM_PACKAGE_MANAGERS


def installs(commands: list[RunCommand]) -> list[tuple[RunCommand, ToolCommand]]:
    """The apt/apk installs of the stage."""
    out = []
    for rc in commands:
        tool = parse_tool(rc.command)
        if tool is not None and tool.manager in system.SYSTEM_PACKAGE_MANAGERS and tool.subcommand in system.INSTALLING:
            out.append((rc, tool))
    return out


def removed_packages(ins: Instruction, commands: list[RunCommand]) -> set[str]:
    """Packages the RUN `ins` installs and purges again."""
    return system.removed_again(rc.command for rc in commands if rc.ins is ins)


def build_packages(commands: list[RunCommand]) -> list[str]:
    """The build-only packages the stage installs and keeps."""
    out = []
    for rc, tool in installs(commands):
        removed = removed_packages(rc.ins, commands)
        out += [p.name for p in tool.packages if system.is_build_package(p.name) and p.name not in removed]
    return out


def pip_install(rc: RunCommand) -> ToolCommand | None:
    tool = parse_tool(rc.command)
    return tool if tool is not None and tool.manager == "pip" and tool.subcommand == "install" else None


def _pip_builds(tool: ToolCommand) -> bool:
    """The pip install installs something besides packaging tools."""
    if tool.files:
        return True
    names = {p.name.lower() for p in tool.packages}
    return bool(names - _PACKAGING_TOOLS) or any(w.text is None for w in tool.operands)


def node_build_script(args: list[str | None], prog: str) -> str | None:
    """The package.json script a npm/yarn/pnpm command runs, when it looks like a build."""
    if not args:
        return None
    if args[0] in ("run", "run-script"):
        name = args[1] if len(args) > 1 else None
    elif prog in ("yarn", "pnpm") and args[0] not in _NOT_SCRIPTS:
        name = args[0]
    else:
        return None
    if name and (name == "build" or name.startswith(_NODE_BUILD_PREFIXES)):
        return name
    return None


def _jar_creates(args: list[str | None]) -> bool:
    if any(a in ("--create", "-c", "--update", "-u") for a in args):
        return True
    first = args[0] if args else None
    if not first:
        return False
    return not first.startswith("-") and first[0] in "cu" and "f" in first and first.isalpha()


def _java_build(prog: str | None, args: list[str | None]) -> bool:
    texts = [a or "" for a in args]
    if prog == "javac":
        return any(a.endswith(".java") or a.startswith("@") for a in texts)
    if prog == "jar":
        return _jar_creates(args)
    if prog in ("mvn", "mvnw"):
        return any(a in ("package", "install", "verify") or a.endswith(":repackage") for a in texts)
    return prog in ("gradle", "gradlew") and any(a in _GRADLE_TASKS for a in texts)


def _evidence(commands: list[RunCommand]) -> dict[str, str]:
    """For each kind of build the commands run, the first command that shows it."""
    found: dict[str, str] = {}
    for rc in commands:
        prog = rc.command.program
        args = words(rc)
        first = args[0] if args else None
        if prog == "go" and first in ("build", "install"):
            found.setdefault("go", f"go {first}")
        elif prog == "cargo" and first in ("build", "install", "b"):
            found.setdefault("rust", f"cargo {first}")
        elif _java_build(prog, args):
            found.setdefault("java", prog or "")
        elif prog in _NODE_RUNNERS and node_build_script(args, prog):
            found.setdefault("node", f"{prog} {' '.join(a or '$' for a in args[:2])}")
        elif prog in ("make", "cmake", "ninja") or prog in _CC:
            found.setdefault("native", prog or "")
    return found


def detect(image: images.ImageRef, commands: list[RunCommand]) -> tuple[str | None, str]:
    """(language, evidence) of the build, (None, "") when the stage builds nothing known."""
    toolchain = images.toolchain_of(image)
    found = _evidence(commands)
    for lang in ("go", "rust"):
        if toolchain == lang and (lang in found or "native" in found):
            return lang, found.get(lang) or found["native"]
    if toolchain == "java" and "java" in found:
        return "java", found["java"]
    for lang in ("go", "rust", "java", "node"):
        if lang in found:
            return lang, found[lang]
    build_pkgs = build_packages(commands)
    if "native" in found and (toolchain == "c" or any(
            p in ("gcc", "g++", "clang", "build-essential", "build-base", "make", "cmake")
            or p.startswith(("gcc-", "g++-")) for p in build_pkgs)):
        return "c", found["native"]
    return _detect_python(commands, build_pkgs) or _detect_static(image, commands) or (None, "")


def _detect_python(commands: list[RunCommand], build_pkgs: list[str]) -> tuple[str, str] | None:
    pip = [rc for rc in commands if (tool := pip_install(rc)) is not None and _pip_builds(tool)]
    compilers = [p for p in build_pkgs if system.compiles(p)]
    if pip and compilers:
        return "python", f"{', '.join(compilers[:3])} for pip install"
    return None


def _detect_static(image: images.ImageRef, commands: list[RunCommand]) -> tuple[str, str] | None:
    """A site generated into a web server's document root by packages the image installs."""
    if image.name not in WEB_ROOTS or not installs(commands):
        return None
    root = WEB_ROOTS[image.name]
    if any(any(a and a.startswith(root) for a in words(rc)) for rc in commands if not is_system_install(rc)):
        pkgs = [p.name for _rc, t in installs(commands) for p in t.packages]
        return "static", f"{', '.join(pkgs[:3])} installed to generate {root}"
    return None
