"""DO301/DO302 proven by building: the original and the rewrite of corpus cases and fixtures are
built for real, run their smoke command with the same output, and the rewrite is smaller.

Images carry the label org.dockopt.test=1 and are removed in a finally (the builder stage is
tagged too, so that removing it takes its intermediate layers along).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
import tomllib
from oracle import oracle_view
from smoke import check_smoke, run_smoke

from dockopt import parse
from dockopt.config import Settings
from dockopt.fixer import fix_text
from dockopt.lint import Linter
from dockopt.passes.multistage import Multistage
from dockopt.passes.nonroot_user import NonrootUser

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
FIXTURES = REPO / "tests" / "fixtures" / "DO301"
LABELS = {"org.dockopt.test": "1"}

# (case dir, minimum size drop as a fraction of the original)
CASES = [
    pytest.param(CORPUS / "22-go-single-stage", 0.90, id="go"),
    pytest.param(CORPUS / "16-node-single-stage-build", 0.50, id="node"),
    pytest.param(CORPUS / "15-node-copy-before-install", 0.50, id="node-prod-deps"),
    # the output reads templates/ and config/ at run time and the runtime's npm ci reads .npmrc
    pytest.param(CORPUS / "40-node-runtime-templates", 0.45, id="node-runtime-files"),
    pytest.param(FIXTURES / "python-c-extension", 0.25, id="python"),
    pytest.param(CORPUS / "24-static-site-single-stage", 0.05, id="static"),   # nginx drops root itself
    pytest.param(CORPUS / "27-c-make-single-stage", 0.70, id="c"),
    pytest.param(CORPUS / "26-java-single-stage", 0.10, id="java"),
    pytest.param(CORPUS / "25-rust-single-stage", 0.80, id="rust"),
]


def _client() -> Any:
    try:
        import docker
    except ImportError as exc:  # the SDK is a dependency of dockopt; only a broken install lacks it
        if os.environ.get("CI"):
            pytest.fail(f"docker SDK missing in CI: {exc}")
        pytest.skip(f"docker SDK not installed ({exc})")
    try:
        client = docker.from_env(timeout=900)
        client.ping()
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"no Docker engine in CI: {exc}")
        pytest.skip(f"no Docker engine reachable ({exc}); these tests build images for real")
    return client


def _bases(text: str) -> list[str]:
    tree = parse(text)
    names = {st.name.lower() for st in tree.stages if st.name}
    return [st.base for st in tree.stages if st.base.lower() not in names and st.base != "scratch"]


def context_of(case: Path) -> Path:
    """The build context of a case: a fixture's context/ (tests/fixtures/README.md), else the case itself."""
    return case / "context" if (case / "context").is_dir() else case


def rewrite(case: Path, settings: Settings | None = None) -> str:
    text = (case / "Dockerfile").read_text(encoding="utf-8")
    res = fix_text(text, Linter([Multistage, NonrootUser]), unsafe=True, path=case / "Dockerfile",
                   context_dir=context_of(case), settings=settings or Settings())
    out = res.text
    assert out != text, "nothing was rewritten"
    assert len(parse(out).stages) == 2
    oracle_view(out)
    return out


def build(client: Any, context: Path, dockerfile: str, tag: str, target: str | None = None) -> Any:
    try:
        image, _log = client.images.build(path=str(context), dockerfile=dockerfile, tag=tag, rm=True,
                                          forcerm=True, pull=False, labels=LABELS, target=target)
    except Exception as exc:
        log = "".join(str(c.get("stream", c.get("error", ""))) for c in getattr(exc, "build_log", []) or [])
        raise AssertionError(f"build of {dockerfile} failed: {exc}\n{log[-4000:]}") from exc
    return image





@pytest.mark.docker
@pytest.mark.timeout(1500)
@pytest.mark.parametrize("case_dir,min_drop", CASES)
def test_rewrite_builds_behaves_the_same_and_is_smaller(case_dir: Path, min_drop: float, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    client = _client()
    with open(case_dir / "case.toml", "rb") as fh:
        case = tomllib.load(fh)
    original = (case_dir / "Dockerfile").read_text(encoding="utf-8")
    # built below with the classic builder (docker-py): the rewrite must target it
    rewritten = rewrite(case_dir, Settings(target="classic"))
    missing = []
    for base in set(_bases(original) + _bases(rewritten)):
        try:
            client.images.get(base)
        except Exception:
            missing.append(base)
    if missing:
        msg = f"base images missing (build the stand-ins with `python -m bench.bases`): {missing}"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    ctx = tmp_path / "ctx"
    shutil.copytree(context_of(case_dir), ctx, symlinks=True)
    (ctx / "Dockerfile").write_text(original, encoding="utf-8")
    (ctx / "Dockerfile.dockopt").write_text(rewritten, encoding="utf-8")
    run = uuid.uuid4().hex[:10]
    tags = {k: f"dockopt-test/do301-{case_dir.name}:{k}-{run}" for k in ("orig", "builder", "new")}
    builder = parse(rewritten).stages[0].name
    try:
        before = build(client, ctx, "Dockerfile", tags["orig"])
        build(client, ctx, "Dockerfile.dockopt", tags["builder"], target=builder)
        after = build(client, ctx, "Dockerfile.dockopt", tags["new"])
        results = {}
        for key, image in (("orig", tags["orig"]), ("new", tags["new"])):
            results[key] = run_smoke(client, image, case["smoke"], labels=LABELS)
            check_smoke(case, *results[key])
        assert results["orig"][1] == results["new"][1]
        size_before, size_after = before.attrs["Size"], after.attrs["Size"]
        drop = 1 - size_after / size_before
        with capsys.disabled():
            print(f"\n{case_dir.name}: {size_before / 1e6:.1f} MB -> {size_after / 1e6:.1f} MB "
                  f"({drop:.1%} smaller); smoke: {results['new'][1].strip().splitlines()[0]!r}")
        assert drop >= min_drop, f"{size_before} -> {size_after} bytes: only {drop:.1%} smaller"
        user = after.attrs["Config"].get("User") or ""
        if "nginx" not in original:
            assert user not in ("", "root", "0"), "DO302 should have given the runtime a non-root USER"
    finally:
        for tag in (tags["new"], tags["orig"], tags["builder"]):
            with contextlib.suppress(Exception):   # not built
                client.images.remove(tag, force=True)
