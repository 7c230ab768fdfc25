"""Python: pip, uv, poetry, pipenv, pipx — what an install reads (hoisting), what it writes and
where pip's cache lives."""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

from ..facts.paths import is_remote, join
from ..shell import PathUse, ToolCommand
from .common import Install, InstallSite, Manifests, Reject, opening, read_toml, table, what

__all__ = ["PIP_CACHE", "install_effects", "programs_run_by", "read_install", "requirement_names",
           "runtime_libraries"]

PIP_CACHE = "/root/.cache/pip"
# where installed distributions and their scripts go
_SITE = ("/usr/local/lib", "/usr/local/bin", "/usr/lib/python3", "/root/.local")


def install_effects(tool: ToolCommand, cwd: str | None, env: Mapping[str, str | None]
                    ) -> tuple[tuple[PathUse, ...], tuple[PathUse, ...]] | None:
    """Installs of named packages and requirement files are modelled; installing a local project
    (`pip install .`, `-e`, poetry/uv installing the project itself) runs its build and is not."""
    manager, sub = tool.manager, tool.subcommand or ""
    site = tuple(PathUse(d, manager, tree=True) for d in _SITE)
    cache = (PathUse(PIP_CACHE, manager, tree=True),)
    if sub.startswith("cache"):
        return (), cache
    reads = tuple(PathUse(f.path, manager) for f in tool.files)
    if manager in ("pip", "uv") and sub in ("install", "pip install", "pip sync"):
        if tool.has_flag("-e", "--editable") or any(not f.path.endswith((".txt", ".in")) for f in tool.files):
            return None
        # a requirements file may include others (`-r`, `-c`, `-e ./pkg`) named relative to it
        around = tuple(PathUse(posixpath.dirname(f.path) or ".", manager, tree=True) for f in tool.files)
        return reads + around, site + cache
    if manager == "pipx" and sub == "install" and not tool.files:
        return (), (PathUse("/root/.local", manager, tree=True), *cache)
    if manager == "poetry" and sub in ("install", "sync") and tool.has_flag("--no-root") \
            and not tool.has_flag("--only-root"):
        return (PathUse("pyproject.toml", manager), PathUse("poetry.lock", manager)), \
            (PathUse(".venv", manager, tree=True), *site, PathUse("/root/.cache/pypoetry", manager, tree=True))
    if manager == "uv" and sub == "sync" and tool.has_flag("--no-install-project"):
        return (PathUse("pyproject.toml", manager), PathUse("uv.lock", manager)), \
            (PathUse(".venv", manager, tree=True), PathUse("/root/.cache/uv", manager, tree=True))
    if manager == "pipenv" and sub in ("install", "sync") and not tool.files and not tool.packages:
        return (PathUse("Pipfile", manager), PathUse("Pipfile.lock", manager)), site + cache
    return None


# --------------------------------------------------------------------------- what an install reads

_REQ_OPT = re.compile(r"^(-r|--requirement|-c|--constraint|-e|--editable|-f|--find-links)(?:=|\s+|(?=[^-\s]))(.+)$")
_VCS = ("git+", "hg+", "svn+", "bzr+")
_REQUIREMENT_FLAGS = ("-r", "--requirement", "--requirements")
_CONSTRAINT_FLAGS = ("-c", "--constraint", "--constraints")


def read_install(tool: ToolCommand, site: InstallSite) -> Install | None:
    """The manifests a pip, Poetry, Pipenv or uv install reads; Reject when it reads more."""
    manager, sub = tool.manager, tool.subcommand or ""
    if manager == "pip" or (manager == "uv" and sub.startswith("pip ")):
        return _pip(tool, site)
    if manager == "poetry":
        return _poetry(tool, site)
    if manager == "pipenv":
        return _pipenv(tool, site)
    if manager == "uv":
        return _uv(tool, site)
    return None


def _pip(tool: ToolCommand, site: InstallSite) -> Install | None:
    sub = tool.subcommand or ""
    if sub not in ("install", "pip install", "pip sync"):
        return None
    flags = tool.flags
    reqs = [f.value for f in flags if f.name in _REQUIREMENT_FLAGS]
    cons = [f.value for f in flags if f.name in _CONSTRAINT_FLAGS]
    if sub == "pip sync":
        reqs += [w.text for w in tool.operands]
    if not reqs:
        return None
    if any(v is None for v in reqs + cons):
        raise Reject("a requirements file name depends on a variable")
    M = Manifests(site)
    if site.copy.context_file(M.img(reqs[0] or "")) is None:
        return None
    _check_pip_options(tool, sub)
    _read_requirements(M, [M.img(r or "") for r in reqs + cons])
    return Install(what(tool), M.found)


def _check_pip_options(tool: ToolCommand, sub: str) -> None:
    if tool.has_flag("-e", "--editable"):
        raise Reject("an editable install needs the project source")
    flag_files = {f.value for f in tool.flags if f.name in _REQUIREMENT_FLAGS + _CONSTRAINT_FLAGS}
    if any(fa.path not in flag_files for fa in tool.files) and sub != "pip sync":
        raise Reject("the install names a local path")
    for f in tool.flags:
        if f.name in ("-f", "--find-links") and f.value and not is_remote(f.value):
            raise Reject("--find-links names a local directory")


def _read_requirements(M: Manifests, todo: list[str | None]) -> None:
    """Follow the requirement files and their -r/-c includes, recording each."""
    seen: set[str] = set()
    while todo:
        img = todo.pop(0)
        if img is None:
            raise Reject("a requirements file path is not static")
        if img in seen:
            continue
        seen.add(img)
        c = M.copy.context_file(img)
        if c is None:
            raise Reject(f"{img} is not brought by the source copy")
        if all(i != img for _, i in M.found):
            M.found.append((c, img))
        text = M.files.text(c)
        if text is None:
            raise Reject(f"{c} cannot be read")
        todo += _includes(c, posixpath.dirname(img), text)


def _includes(c: str, base: str, text: str) -> list[str | None]:
    """The files a requirements file includes; Reject for a line that reads the project."""
    out: list[str | None] = []
    for line in _requirement_lines(text):
        mo = _REQ_OPT.match(line)
        if mo:
            opt, val = mo.group(1), mo.group(2).strip()
            if opt in ("-r", "--requirement", "-c", "--constraint"):
                if not is_remote(val):
                    out.append(join(base, val))
            elif opt in ("-e", "--editable"):
                if not is_remote(val) and not val.startswith(_VCS):
                    raise Reject(f"{c} installs a local project ({line})")
            elif not is_remote(val):
                raise Reject(f"{c} reads packages from a local directory ({line})")
            continue
        if not line.startswith("-") and _local_requirement(line):
            raise Reject(f"{c} names a local path ({line})")
    return out


def _requirement_lines(text: str) -> Iterable[str]:
    buf = ""
    for raw in text.splitlines():
        line = raw
        if line.endswith("\\"):
            buf += line[:-1]
            continue
        line = buf + line
        buf = ""
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            yield line
    if buf.strip():
        yield buf.strip()


def _local_requirement(line: str) -> bool:
    if "@" in line and not line.startswith(_VCS):
        after = line.split("@", 1)[1].strip()
        if after.startswith("file:"):
            return True
    if is_remote(line) or line.startswith(_VCS):
        return line.startswith("file:")
    if line.startswith((".", "/", "~", "file:")):
        return True
    first = line.split()[0].split(";")[0]
    return first.lower().endswith((".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz")) or "/" in first


def _has_path_dep(obj: object) -> bool:
    if isinstance(obj, dict):
        if "path" in obj or obj.get("workspace") is True:
            return True
        return any(_has_path_dep(v) for v in obj.values())
    if isinstance(obj, list):
        return any(_has_path_dep(v) for v in obj)
    return False


def _pep621_local(data: dict[str, Any]) -> bool:
    project = table(data, "project")
    deps = list(project.get("dependencies") or [])
    for group in (project.get("optional-dependencies") or {}).values():
        deps += list(group or [])
    return any(isinstance(d, str) and re.search(r"@\s*(file:|\.{1,2}/|/)", d) for d in deps)


def _venv(M: Manifests) -> list[str]:
    return [o for o in [M.img(".venv")] if o]


def _poetry(tool: ToolCommand, site: InstallSite) -> Install | None:
    opened = opening(tool, site, ("install", "sync"), ("-C", "--directory", "-P", "--project"), "pyproject.toml")
    if opened is None:
        return None
    M, pyproject = opened
    if tool.has_flag("--only-root"):
        raise Reject("--only-root installs the project itself")
    data = read_toml(M.files, pyproject)
    poetry = (data.get("tool") or {}).get("poetry")
    if not isinstance(poetry, dict) and "project" not in data:
        raise Reject("pyproject.toml has no Poetry project")
    poetry = poetry if isinstance(poetry, dict) else {}
    if _has_path_dep({k: poetry.get(k) for k in ("dependencies", "dev-dependencies", "group")}) \
            or _pep621_local(data):
        raise Reject("pyproject.toml has a path dependency")
    M.get("poetry.lock")
    M.get("poetry.toml")
    inst = Install(what(tool), M.found, outputs=_venv(M))
    if not (tool.has_flag("--no-root") or poetry.get("package-mode") is False):
        inst.dup = True
        inst.inserts.append(tool.flag_insertion("--no-root"))
        inst.unsafe.append("the hoisted install gets --no-root; the original `poetry install` stays "
                           "after the source copy to install the project itself")
    return inst


def _pipenv(tool: ToolCommand, site: InstallSite) -> Install | None:
    if tool.packages or tool.files:
        return None
    opened = opening(tool, site, ("install", "sync"), ("-r", "--requirements"), "Pipfile")
    if opened is None:
        return None
    M, pipfile = opened
    text = M.files.text(pipfile) or ""
    if re.search(r"\bpath\s*=|\beditable\s*=\s*true", text):
        raise Reject("the Pipfile has a path dependency")
    M.get("Pipfile.lock")
    return Install(what(tool), M.found, outputs=_venv(M))


def _uv(tool: ToolCommand, site: InstallSite) -> Install | None:
    opened = opening(tool, site, ("sync",), ("--project", "--directory", "--package", "--all-packages"),
                     "pyproject.toml")
    if opened is None:
        return None
    M, pyproject = opened
    data = read_toml(M.files, pyproject)
    uv = ((data.get("tool") or {}).get("uv")) or {}
    if not isinstance(uv, dict):
        uv = {}
    if uv.get("workspace"):
        raise Reject("pyproject.toml declares a uv workspace")
    if _has_path_dep(uv.get("sources") or {}) or _pep621_local(data):
        raise Reject("pyproject.toml has a path source")
    for name in ("uv.lock", ".python-version", "uv.toml"):
        M.get(name)
    inst = Install(what(tool), M.found, outputs=_venv(M))
    package = uv.get("package")
    installs_project = package is True or (package is None and "build-system" in data)
    if installs_project and not tool.has_flag("--no-install-project", "--no-install-workspace", "--only-group"):
        inst.dup = True
        inst.inserts.append(tool.flag_insertion("--no-install-project"))
        inst.unsafe.append("the hoisted `uv sync` gets --no-install-project; the original stays after "
                           "the source copy to install the project itself")
    return inst


# --------------------------------------------------------------------------- what the app needs at run time

# Django's management commands that run gettext's programs
_DJANGO_RUNS = {"compilemessages": frozenset({"msgfmt"}),
                "makemessages": frozenset({"xgettext", "msgmerge", "msguniq", "msgattrib"})}


def programs_run_by(argv: Sequence[str | None]) -> frozenset[str]:
    """Programs a Python command runs on its behalf (`manage.py compilemessages` runs msgfmt)."""
    texts = [w for w in argv if w]
    django = any(posixpath.basename(w) in ("manage.py", "django-admin", "django-admin.py") for w in texts) or \
        any(pair == ("-m", "django") for pair in pairwise(texts))
    if not django:
        return frozenset()
    return frozenset().union(*(_DJANGO_RUNS.get(w, frozenset()) for w in texts))


# packages that PyPI ships as source only (or without wheels for some platforms) and that link a
# system library: built against the full image's headers, they need the library at run time
# (Debian names, as in the python images)
_LINKED_LIBRARIES: dict[str, tuple[str, ...]] = {
    "psycopg2": ("libpq5",), "mysqlclient": ("libmariadb3",), "python-ldap": ("libldap-2.5-0", "libsasl2-2"),
    "pyodbc": ("libodbc2",), "pygraphviz": ("libgvc6",), "pycairo": ("libcairo2",), "gssapi": ("libgssapi-krb5-2",),
    "python-snappy": ("libsnappy1v5",), "pylibmc": ("libmemcached11",), "uwsgi": ("libxml2",),
}


def requirement_names(text: str) -> list[str]:
    """The distribution names a requirements file lists (normalized), options and includes left out."""
    out = []
    for line in _requirement_lines(text):
        if line.startswith("-"):
            continue
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)", line)
        if m:
            out.append(re.sub(r"[-_.]+", "-", m.group(1)).lower())
    return out


def runtime_libraries(names: Iterable[str]) -> list[str]:
    """The Debian packages of the shared libraries these distributions link when built from source."""
    out: list[str] = []
    for name in names:
        for lib in _LINKED_LIBRARIES.get(name, ()):
            if lib not in out:
                out.append(lib)
    return out
