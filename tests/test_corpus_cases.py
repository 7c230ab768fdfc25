"""The project's own corpus of buildable Dockerfile cases (corpus/<nn>-<slug>/).

Static checks run everywhere (no engine): every case has its files and a valid
case.toml, the corpus covers every family and has enough no-op and trap cases.
The ``docker`` test builds a representative subset for real and runs each
case's smoke command in the image.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

import pytest
from smoke import check_smoke, run_smoke

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"

FAMILIES = {"apt", "python", "node", "go", "static", "rust", "java", "c", "generic"}
KINDS = {"anti-pattern", "no-op", "trap"}
SAFETIES = {"safe", "unsafe", "none"}
RULES = {
    "DO101", "DO102", "DO103", "DO104", "DO105", "DO106", "DO107", "DO108", "DO109", "DO110",
    "DO111", "DO201", "DO202", "DO203", "DO204", "DO205", "DO206", "DO207", "DO208", "DO301", "DO302",
    "DO401",
}
REQUIRED = {
    "description": str,
    "family": str,
    "kind": str,
    "smoke": str,
    "source_file": str,
    "manifests": list,
    "should_fire": list,
    "should_not_fire": list,
    "safety": str,
    "notes": str,
}
OPTIONAL = {"expect_output": str, "expect_contains": str}

MIN_CASES = 24
MIN_NOOP = 4
MIN_TRAP = 6

# One case per family, at most 7: quick builds that still exercise the engine
# with apt, pip, npm, a Go multi-stage build onto distroless (no shell; with a
# cache mount and COPY --link, so BuildKit only), make + gcc, nginx and a
# busybox image.  Rust and Java are left to the full corpus run (their
# toolchain images are the largest).
DOCKER_SUBSET = [
    "05-apt-single-run-clean",
    "14-python-clean",
    "21-node-clean",
    "39-go-cache-mount-distroless",
    "24-static-site-single-stage",
    "27-c-make-single-stage",
    "31-generic-exec-form-clean",
]

CASE_DIR_RE = re.compile(r"^\d{2}-[a-z0-9]+(?:-[a-z0-9]+)*$")


def case_dirs() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.is_dir() and CASE_DIR_RE.match(p.name))


def load_case(path: Path) -> dict:
    with open(path / "case.toml", "rb") as f:
        return tomllib.load(f)


def all_cases() -> dict[str, dict]:
    return {p.name: load_case(p) for p in case_dirs()}


CASE_NAMES = [p.name for p in case_dirs()]


# --------------------------------------------------------------------------
# Static checks
# --------------------------------------------------------------------------


def test_corpus_dir_holds_only_cases():
    stray = [p.name for p in CORPUS.iterdir() if p.is_dir() and not CASE_DIR_RE.match(p.name)]
    assert not stray, f"directories in corpus/ that are not <nn>-<slug> cases: {stray}"
    numbers = [p.name[:2] for p in case_dirs()]
    assert len(numbers) == len(set(numbers)), "two cases share a number"


@pytest.mark.parametrize("name", CASE_NAMES)
def test_case_files_and_keys(name):
    d = CORPUS / name
    assert (d / "Dockerfile").is_file(), "missing Dockerfile"
    assert (d / "case.toml").is_file(), "missing case.toml"
    case = load_case(d)

    for key, typ in REQUIRED.items():
        assert key in case, f"case.toml lacks {key!r}"
        assert isinstance(case[key], typ), f"{key!r} should be a {typ.__name__}"
    unknown = set(case) - set(REQUIRED) - set(OPTIONAL)
    assert not unknown, f"unknown keys in case.toml: {sorted(unknown)}"

    assert case["description"].strip() and "\n" not in case["description"], "description: one line"
    assert case["family"] in FAMILIES
    assert case["kind"] in KINDS
    assert case["safety"] in SAFETIES
    assert case["smoke"].strip()

    expects = [k for k in OPTIONAL if k in case]
    assert len(expects) == 1, "exactly one of expect_output / expect_contains"
    assert case[expects[0]].strip(), "empty expectation"

    # the file to edit in the rebuild test is real source, not a manifest
    assert (d / case["source_file"]).is_file(), f"source_file {case['source_file']} missing"
    assert case["source_file"] not in case["manifests"], "source_file must not be a manifest"
    for m in case["manifests"]:
        assert isinstance(m, str) and (d / m).is_file(), f"manifest {m} missing"

    fire, not_fire = set(case["should_fire"]), set(case["should_not_fire"])
    assert fire <= RULES, f"unknown rule codes: {sorted(fire - RULES)}"
    assert not_fire <= RULES, f"unknown rule codes: {sorted(not_fire - RULES)}"
    assert not fire & not_fire, f"listed as both firing and not: {sorted(fire & not_fire)}"

    if case["kind"] == "no-op":
        assert not fire, "a no-op case must not expect any rule to fire"
        assert case["safety"] == "none"
    if case["kind"] == "trap":
        assert case["notes"].strip(), "a trap case says why it is a trap"
    if case["kind"] == "anti-pattern":
        assert fire, "an anti-pattern case names the rules it shows"


@pytest.mark.parametrize("name", CASE_NAMES)
def test_dockerfile_builds_offline(name):
    """No frontend image can be pulled here: a '# syntax=' line names the stock frontend, and the
    Dockerfile frontend built into the engine (Docker 26) reads everything the case uses."""
    from dockopt.verify import features as feat

    text = (CORPUS / name / "Dockerfile").read_text(encoding="utf-8")
    directive = feat.syntax_directive(text)
    assert directive is None or feat.is_stock_frontend(directive[1]), directive
    used = feat.needed_features(text)
    assert not feat.unsupported_by_builtin_frontend(used, "26.1.5"), feat.describe(used)
    assert re.search(r"^FROM\s", text, re.M | re.I), "no FROM"


# What a lockfile may not pin: the host packages are downloaded from (npm's and yarn's `resolved`,
# Poetry's source `url`, Cargo's registry source). Without it, installs go through the registry the
# machine is configured with.
PINNED_HOST = re.compile(r'^\s*("resolved"\s*:|resolved\s+"|url\s*=\s*"|source\s*=\s*"registry\+)', re.M)
LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "poetry.lock", "Cargo.lock")


@pytest.mark.parametrize("name", CASE_NAMES)
def test_lockfiles_name_no_download_host(name):
    for lock in LOCKFILES:
        path = CORPUS / name / lock
        if path.is_file():
            pinned = PINNED_HOST.findall(path.read_text(encoding="utf-8"))
            assert not pinned, f"{lock} pins download addresses: {pinned[:3]}"


def test_buildkit_only_features_have_cases():
    """Heredocs, cache mounts, COPY --link and a syntax directive each appear in some case."""
    from dockopt.verify import features as feat

    used = set()
    for name in CASE_NAMES:
        used |= feat.needed_features((CORPUS / name / "Dockerfile").read_text(encoding="utf-8"))
    assert {"heredoc", "run-mount", "copy-link", "syntax-directive"} <= used


@pytest.mark.parametrize("name", CASE_NAMES)
def test_scripts_are_executable(name):
    """A script with a #! line is run directly in the images: git must keep its x bit."""
    for p in (CORPUS / name).rglob("*"):
        if p.is_file() and p.name != "Dockerfile" and p.read_bytes()[:2] == b"#!":
            assert os.access(p, os.X_OK), f"{p.relative_to(CORPUS)} has a #! line but no x bit"


def test_corpus_size_and_coverage():
    cases = all_cases()
    kinds = [c["kind"] for c in cases.values()]
    assert len(cases) >= MIN_CASES, f"only {len(cases)} cases"
    assert kinds.count("no-op") >= MIN_NOOP, f"only {kinds.count('no-op')} no-op cases"
    assert kinds.count("trap") >= MIN_TRAP, f"only {kinds.count('trap')} trap cases"
    missing = FAMILIES - {c["family"] for c in cases.values()}
    assert not missing, f"families without a case: {sorted(missing)}"


def test_readme_lists_every_case():
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    for name, case in all_cases().items():
        row = next((ln for ln in readme.splitlines() if f"`{name}`" in ln), None)
        assert row is not None, f"corpus/README.md does not list {name}"
        assert case["family"] in row and case["kind"] in row, f"README row of {name} is stale"


def test_docker_subset_is_representative():
    cases = all_cases()
    assert len(DOCKER_SUBSET) <= 7
    assert all(n in cases for n in DOCKER_SUBSET)
    fams = [cases[n]["family"] for n in DOCKER_SUBSET]
    assert len(fams) == len(set(fams)), "one case per family"


# --------------------------------------------------------------------------
# Real builds
# --------------------------------------------------------------------------


def base_images(dockerfile: str) -> list[str]:
    """External images named by FROM (stage names and --platform flags skipped)."""
    stages: set[str] = set()
    bases: list[str] = []
    for m in re.finditer(r"^\s*FROM\s+(.+)$", dockerfile, re.M | re.I):
        words = [w for w in m.group(1).split() if not w.startswith("--")]
        if not words:
            continue
        image = words[0]
        if len(words) >= 3 and words[1].lower() == "as":
            stages.add(words[2].lower())
        if image.lower() not in stages and image.lower() != "scratch":
            bases.append(image)
    return bases


def image_tag(name: str) -> str:
    return f"dockopt-corpus/{name}:test"


def _client_or_skip():
    docker = pytest.importorskip("docker")
    try:
        client = docker.from_env(timeout=900)
        client.ping()
    except Exception as exc:  # engine not reachable
        if os.environ.get("CI"):
            pytest.fail(f"no Docker engine in CI: {exc}")
        pytest.skip(f"no Docker engine: {exc}")
    return client


def build_case(name: str) -> tuple[str, float]:
    """Build corpus/<name> with BuildKit (docker buildx, as users build); (tag, seconds)."""
    import subprocess

    from dockopt.verify import features as feat

    tag = image_tag(name)
    # no registry here: the stock frontend a `# syntax=` line names is the engine's own
    text = feat.without_syntax_directive((CORPUS / name / "Dockerfile").read_text(encoding="utf-8"))
    argv = ["docker", "buildx", "build", "--load", "--progress=plain", "-t", tag, "-f", "-",
            "--label", "org.dockopt.test=corpus", str(CORPUS / name)]
    t0 = time.monotonic()
    proc = subprocess.run(argv, input=text, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, f"build of {name} failed:\n{proc.stderr[-4000:]}"
    return tag, time.monotonic() - t0


@pytest.mark.docker
@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", DOCKER_SUBSET)
def test_case_builds_and_smoke_passes(name):
    client = _client_or_skip()
    d = CORPUS / name
    case = load_case(d)
    missing = []
    for base in base_images((d / "Dockerfile").read_text(encoding="utf-8")):
        try:
            client.images.get(base)
        except Exception:
            missing.append(base)
    if missing:
        msg = f"base images missing (build the stand-ins with `python -m bench.bases`): {missing}"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    tag, _ = build_case(name)
    try:
        check_smoke(case, *run_smoke(client, tag, case["smoke"]))
    finally:
        with contextlib.suppress(Exception):
            client.images.remove(tag, force=True)
