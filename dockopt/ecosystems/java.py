"""Java: what Maven's dependency goals read (hoisting), where the local repository lives, and
the jars `jar`, Maven and Gradle write (the multi-stage split)."""
from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping

from ..facts.paths import join
from ..shell import PathUse, SimpleCommand, ToolCommand, parse_tool
from .common import CannotTell, Install, InstallSite, Manifests, Reject, command_text, what

__all__ = ["BUILD_GOALS", "M2", "dependency_goal", "install_effects", "jar_outputs", "maven_output_dir", "pom",
           "read_install", "tool_files"]

M2 = "/root/.m2"
# the goals that compile and package, downloading what they need on the way
BUILD_GOALS = frozenset({"package", "install", "verify", "compile", "test", "deploy", "test-compile"})


def install_effects(tool: ToolCommand, cwd: str | None, env: Mapping[str, str | None]
                    ) -> tuple[tuple[PathUse, ...], tuple[PathUse, ...]] | None:
    """`mvn dependency:*` reads pom.xml (and .mvn/) and fills ~/.m2; a build is not modelled here."""
    if not dependency_goal(tool) or not all((w.text or "").startswith("dependency:") for w in tool.operands):
        return None
    if tool.has_flag("-f", "--file", "-pl", "--projects"):
        return None
    return (PathUse("pom.xml", "mvn"), PathUse(".mvn", "mvn", tree=True)), (PathUse(M2, "mvn", tree=True),)


def dependency_goal(tool: ToolCommand) -> bool:
    """`mvn dependency:...`: a goal that only resolves dependencies."""
    return tool.manager == "mvn" and any((w.text or "").startswith("dependency:") for w in tool.operands)


# --------------------------------------------------------------------------- what an install reads

def pom(M: Manifests) -> str | None:
    """Record pom.xml and .mvn/; Reject a project whose build reads other poms."""
    found = M.get("pom.xml")
    if found is None:
        return None
    text = M.files.text(found) or ""
    if re.search(r"<modules>", text):
        raise Reject("pom.xml has modules (their poms are needed too)")
    if re.search(r"<parent>", text):
        rel = re.search(r"<relativePath>\s*([^<]*?)\s*</relativePath>", text)
        path = rel.group(1) if rel else "../pom.xml"
        if path:
            img = M.img(path)
            if img and not img.endswith(".xml"):
                img = img.rstrip("/") + "/pom.xml"
            if img and M.copy.context_file(img) is not None:
                raise Reject("pom.xml inherits from a parent pom of the project")
    M.add_tree(".mvn")
    return found


def tool_files(M: Manifests, tool: ToolCommand) -> None:
    """Record the settings and toolchain files the command names, and the wrapper script."""
    for f in tool.flags:
        if f.name in ("-s", "--settings", "-gs", "--global-settings", "-t", "--toolchains") and f.value:
            if f.value.startswith("/"):
                continue
            if M.get(f.value) is None:
                raise Reject(f"{f.value} is not brought by the source copy")
    if tool.command.program == "mvnw" and M.get(tool.tool_word.text or "") is None:
        raise Reject("the Maven wrapper script is not in the context")


def read_install(tool: ToolCommand, site: InstallSite) -> Install | None:
    """The manifests `mvn dependency:go-offline` (or another dependency goal) reads."""
    goals = [w.text for w in tool.operands]
    if not goals or not all(g and g.startswith("dependency:") for g in goals):
        return None
    if tool.has_flag("-f", "--file", "-pl", "--projects", "-rf", "--resume-from"):
        return None
    if site.earlier(dependency_goal):
        return None
    M = Manifests(site)
    if pom(M) is None:
        return None
    tool_files(M, tool)
    return Install(what(tool), M.found)


# --------------------------------------------------------------------------- what a build writes

def jar_outputs(command: SimpleCommand, cwd: str | None) -> list[str]:
    """The jar `jar --create --file x.jar` (or `jar cvf x.jar`) writes."""
    words = [w.text for w in command.args]
    if any(w is None for w in words):
        raise CannotTell(f"`{command_text(command)}` has words only known at build time")
    texts = [w or "" for w in words]
    out = None
    for i, w in enumerate(texts):
        if w.startswith("--file="):
            out = w[len("--file="):]
        elif w in ("--file", "-f") and i + 1 < len(texts):
            out = texts[i + 1]
    if out is None and len(texts) > 1 and re.fullmatch(r"[cu][a-zA-Z]*", texts[0]) and "f" in texts[0]:
        # old style: jar cvf app.jar ... (the f option's file comes first after the letters)
        out = texts[1]
    if out is None:
        return []
    target = join(cwd, out)
    if target is None:
        raise CannotTell("the jar's directory is only known at build time")
    return [target]


def maven_output_dir(command: SimpleCommand, cwd: str | None) -> str | None:
    """Where `mvn package` puts the jars: target/ of the project (`-f` moves it)."""
    tool = parse_tool(command)
    for f in tool.flags if tool is not None else ():
        if f.name in ("-f", "--file") and f.value:
            path = f.value
            cwd = join(cwd, path if not path.endswith(".xml") else posixpath.dirname(path) or ".")
    return join(cwd, "target") if cwd else None
