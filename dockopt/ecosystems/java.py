"""Java: what Maven's dependency goals read and where the local repository lives."""
from __future__ import annotations

from collections.abc import Mapping

from ..shell import PathUse, ToolCommand

__all__ = ["install_effects"]

M2 = "/root/.m2"


def install_effects(tool: ToolCommand, cwd: str | None, env: Mapping[str, str | None]
                    ) -> tuple[tuple[PathUse, ...], tuple[PathUse, ...]] | None:
    """`mvn dependency:*` reads pom.xml (and .mvn/) and fills ~/.m2; a build is not modelled here."""
    goals = [w.text for w in tool.operands]
    if not goals or not all(g and g.startswith("dependency:") for g in goals):
        return None
    if tool.has_flag("-f", "--file", "-pl", "--projects"):
        return None
    return (PathUse("pom.xml", "mvn"), PathUse(".mvn", "mvn", tree=True)), (PathUse(M2, "mvn", tree=True),)
