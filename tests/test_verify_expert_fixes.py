"""DO202's `COPY --chmod` and DO207's `COPY --link` rewrites, built for real with BuildKit: the
image the rewrite builds holds the same files, modes and owners as the original's (the safe
fixes).

Where DO207 calls `--link` unsafe (a directory on the way that an earlier step gave to a user,
or made a symlink), the engine here (Docker 26, docker driver) builds the same image with and
without `--link`: it does not write those directories afresh as BuildKit's own workers do
(moby/moby#44956, docker/buildx#1855), so this engine cannot show the difference and no test
here claims it.

Needs an engine with buildx and the local `python:3.11-slim-bookworm` stand-in
(`python -m bench.bases`); there is no registry, so the symbolic `--chmod` (which needs
`# syntax=docker/dockerfile:1`, pulled from a registry) is not built here.
"""
from __future__ import annotations

import os
from pathlib import Path

import docker
import pytest

from dockopt.fixer import fix_text
from dockopt.lint import Linter
from dockopt.passes.copy_chown import CopyChown
from dockopt.passes.copy_link import CopyLink
from dockopt.verify import verify

pytestmark = pytest.mark.docker

BASE = "python:3.11-slim-bookworm"
PASSES = [CopyChown, CopyLink]


@pytest.fixture(scope="module")
def base() -> str:
    try:
        client = docker.from_env(timeout=30)
        client.ping()
        client.images.get(BASE)
    except Exception as exc:   # no engine, or the stand-in is missing
        if os.environ.get("CI"):
            pytest.fail(f"CI needs a Docker engine and {BASE}: {exc}")
        pytest.skip(f"needs a Docker engine and the local {BASE} image ({exc})")
    return BASE


def _context(tmp_path: Path) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "run.sh").write_text("#!/bin/sh\necho run\n")
    (ctx / "run.sh").chmod(0o644)
    return ctx


def _rewrite(text: str, ctx: Path, unsafe: bool = False) -> str:
    return fix_text(text, Linter(PASSES), unsafe=unsafe, context_dir=ctx).text


def test_chmod_and_link_rewrites_build_the_same_image(base: str, tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    original = (f"FROM {base} AS build\n"
                "RUN mkdir -p /out && printf 'tool\\n' > /out/tool && chmod 0750 /out/tool\n"
                f"FROM {base}\n"
                "COPY run.sh /usr/local/bin/run\n"
                "RUN chmod 0755 /usr/local/bin/run\n"
                "COPY --from=build /out/tool /usr/local/bin/tool\n"
                "COPY --from=build /out/tool /usr/local/lib/tool\n"
                'CMD ["run"]\n')
    rewritten = _rewrite(original, ctx)
    assert "COPY --chmod=0755 run.sh /usr/local/bin/run\n" in rewritten
    assert "RUN chmod" not in rewritten
    assert "COPY --link --from=build /out/tool /usr/local/bin/tool\n" in rewritten
    assert "COPY --link --from=build /out/tool /usr/local/lib/tool\n" in rewritten
    r = verify(original, rewritten, ctx, backend="buildkit", timeout=300,
               smoke="stat -c '%a %U %n' /usr/local/bin/run /usr/local/bin/tool /usr/local/lib/tool "
                     "/usr/local/bin /usr/local/lib && run")
    assert r.verdict == "equivalent", r.summary
    out = r.equivalence.smoke.original.output
    assert "755 root /usr/local/bin/run" in out and "750 root /usr/local/bin/tool" in out
    assert r.equivalence.smoke.rewritten.output == out
    # the rewrite drops the chmod layer, which held a second copy of run.sh
    assert r.rewritten.stats.layer_count == r.original.stats.layer_count - 1


def test_ignore_deleted_rewrite_builds_the_same_image_with_fewer_bytes(base: str, tmp_path: Path) -> None:
    """DO208: the paths the RUN deleted go to .dockerignore and the rm goes; the image holds the
    same files, and the deleted bytes no longer sit in the COPY layer."""
    from dockopt.passes.ignore_deleted import IgnoreDeleted

    ctx = tmp_path / "ctx"
    (ctx / "tests").mkdir(parents=True)
    (ctx / "app.py").write_text("print('hi')\n")
    (ctx / "tests" / "fixture.bin").write_bytes(b"\0" * 300_000)
    original = f"FROM {base}\nWORKDIR /app\nCOPY . .\nRUN rm -rf tests\nCMD [\"python\", \"app.py\"]\n"
    res = fix_text(original, Linter([IgnoreDeleted]), context_dir=ctx)
    assert res.text == f"FROM {base}\nWORKDIR /app\nCOPY . .\nCMD [\"python\", \"app.py\"]\n"
    [ignore] = res.files.values()
    r = verify(original, res.text, ctx, backend="buildkit", timeout=300, rewritten_dockerignore=ignore,
               smoke="ls -A /app && python /app/app.py")
    assert r.verdict == "equivalent", r.summary
    assert r.equivalence.smoke.rewritten.output == "app.py\nhi\n"
    assert r.original.stats.size - r.rewritten.stats.size >= 300_000     # the deleted file's bytes
    assert r.rewritten.stats.layer_count == r.original.stats.layer_count - 1
