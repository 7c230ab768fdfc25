"""Which Dockerfile syntax the file's frontend reads: the `# syntax=` directive's version.

`frontend_version(syntax)` reads `docker/dockerfile:<tag>` (also `docker.io/docker/dockerfile`,
`-upstream`): `1` and `labs` float to the newest 1.x release (`LATEST`), `1.4` / `1.4.3` name
that release, `1.10-labs` a labs release. None for no directive or another frontend image.

`frontend_supports(syntax, minimum, labs_minimum)`: the frontend reads a feature that came in
release `minimum` (or, as a labs feature, `labs_minimum`). Without a directive, the builder's
built-in frontend reads the file: `builtin` says whether that one is assumed to have it
(the engines the project targets, Docker 23 and newer, have dockerfile 1.5 built in).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

LATEST = 10_000   # the minor version of a floating `:1` tag

_SYNTAX = re.compile(r"^(?:[\w.-]+(?::\d+)?/)?docker/dockerfile(?:-upstream)?:"
                     r"(?P<tag>[\w.-]+?)(?:@sha256:[0-9a-f]+)?$")
_TAG = re.compile(r"^(?P<major>\d+)(?:\.(?P<minor>\d+)(?:\.\d+)?)?(?P<labs>-labs)?$")

# built-in frontend of the BuildKit engines the project builds with (Docker 23+): dockerfile 1.5
BUILTIN = (1, 5)


@dataclass(frozen=True)
class FrontendVersion:
    major: int
    minor: int      # LATEST for a floating tag
    labs: bool

    def at_least(self, minimum: tuple[int, int]) -> bool:
        return (self.major, self.minor) >= minimum if self.major == minimum[0] else self.major > minimum[0]


def frontend_version(syntax: str | None) -> FrontendVersion | None:
    if not syntax:
        return None
    m = _SYNTAX.match(syntax.strip())
    if m is None:
        return None
    tag = m.group("tag")
    if tag == "labs":
        return FrontendVersion(1, LATEST, True)
    t = _TAG.match(tag)
    if t is None:
        return None
    minor = int(t.group("minor")) if t.group("minor") is not None else LATEST
    return FrontendVersion(int(t.group("major")), minor, bool(t.group("labs")))


def frontend_supports(syntax: str | None, minimum: tuple[int, int], labs_minimum: tuple[int, int] | None = None,
                      builtin: bool = True) -> bool:
    """Whether the frontend the file builds with reads a feature of dockerfile `minimum`
    (`labs_minimum` for a labs release). A directive that names another frontend: False."""
    if not syntax:
        return builtin
    version = frontend_version(syntax)
    if version is None:
        return False
    if version.at_least(minimum):
        return True
    return bool(version.labs and labs_minimum is not None and version.at_least(labs_minimum))
