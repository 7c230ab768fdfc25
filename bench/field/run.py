"""Orchestration and command line of the field bench (see the package docstring)."""
from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dockopt.verify.layers import FileEntry

from . import engine
from .dockopt_cli import Dockopt, DockoptError, default_command
from .files import check as check_files
from .files import image_files
from .images import image_refs, substitute_bases
from .manifest import Entry, ManifestError, load_manifest
from .report import render_markdown, summarize
from .verdict import BROKEN, Probe, build_verdict, probe_verdict

HERE = Path(__file__).resolve().parent
DESCRIPTION = "Run dockopt on real repositories; build the original and its rewrites; report what broke."
MODES = ("safe", "unsafe")


@dataclass
class Break:
    mode: str
    what: str  # "build", "smoke" or "liveness"
    codes: list[str]  # the rule codes whose fix alone reproduces the break ("combination" if none does)
    step: str = ""
    line: str = ""  # the line of the build log (or the container's output) that shows it
    code_lines: dict[str, str] = field(default_factory=dict)  # what each responsible code's lone rewrite showed


@dataclass
class Variant:
    rewritten: bool = False
    fixes: list[str] = field(default_factory=list)
    diff: str = ""
    findings_after: int | None = None
    built: bool | None = None
    build_seconds: float = 0.0
    failed_step: str = ""
    error_line: str = ""
    probe: str = ""
    probe_tail: str = ""
    build_verdict: str = ""
    probe_verdict: str = ""
    same_as: str = ""  # "safe" when the unsafe rewrite equals the safe one (built once)
    # the image's files against the original's: paths compared, and those that differ that no
    # applied fix declares (None: not compared), with examples
    files_compared: int = 0
    files_undeclared: int | None = None
    files_examples: list[str] = field(default_factory=list)


@dataclass
class FileResult:
    key: str
    repo: str
    dockerfile: str
    context: str
    lang: str
    commit: str
    status: str = "checked"  # checked (static only), built, not built, error
    reason: str = ""
    substitutions: dict[str, str] = field(default_factory=dict)
    findings: int = 0
    finding_codes: dict[str, int] = field(default_factory=dict)
    original: Variant = field(default_factory=Variant)
    safe: Variant = field(default_factory=Variant)
    unsafe: Variant = field(default_factory=Variant)
    breaks: list[Break] = field(default_factory=list)
    dockopt_seconds: float = 0.0
    seconds: float = 0.0


def _say(msg: str) -> None:
    print(f"[field {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:100]


def checkout_commit(repo_dir: Path) -> str:
    p = subprocess.run(["git", "-C", str(repo_dir), "rev-parse", "HEAD"], capture_output=True, text=True,
                       timeout=60, check=False)
    return p.stdout.strip()


@contextlib.contextmanager
def scratch_copy(repo_dir: Path, parent: Path) -> Iterator[Path]:
    """A copy of the whole checkout (``.git`` included: builds may read it), removed afterwards."""
    where = Path(tempfile.mkdtemp(prefix="copy-", dir=parent))
    dest = where / repo_dir.name
    try:
        subprocess.run(["cp", "-a", "--reflink=auto", str(repo_dir), str(dest)], check=True, timeout=600)
        yield dest
    finally:
        shutil.rmtree(where, ignore_errors=True)


class FieldBench:
    def __init__(self, root: Path, dockopt: Dockopt, work: Path, *, build: bool = True, probe_seconds: float = 8.0,
                 timeout: float = 1800, bisect: bool = True, keep_images: bool = False):
        self.root = root
        self.dockopt = dockopt
        self.work = work
        self.do_build = build
        self.probe_seconds = probe_seconds
        self.timeout = timeout
        self.bisect = bisect
        self.keep_images = keep_images
        self.logs = work / "logs"

    # -- static -------------------------------------------------------------
    def static(self, e: Entry, repo_dir: Path, r: FileResult) -> None:
        codes = self.dockopt.findings(e.dockerfile, e.context, repo_dir)
        r.findings = len(codes)
        for c in codes:
            r.finding_codes[c] = r.finding_codes.get(c, 0) + 1
        for mode in MODES:
            v: Variant = getattr(r, mode)
            plan = self.dockopt.plan(e.dockerfile, e.context, repo_dir, unsafe=mode == "unsafe")
            v.rewritten, v.fixes = plan.changed, plan.fixes
            if plan.changed:
                v.diff = self.dockopt.diff(e.dockerfile, e.context, repo_dir, unsafe=mode == "unsafe")
                with scratch_copy(repo_dir, self.work) as copy:
                    self.dockopt.write(e.dockerfile, e.context, copy, unsafe=mode == "unsafe")
                    v.findings_after = len(self.dockopt.findings(e.dockerfile, e.context, copy))
            else:
                v.findings_after = r.findings
        if r.unsafe.diff == r.safe.diff:
            r.unsafe.same_as = "safe"

    # -- builds -------------------------------------------------------------
    def blocker(self, e: Entry, repo_dir: Path) -> str:
        if e.blocker:
            return e.blocker
        text = substitute_bases((repo_dir / e.dockerfile).read_text(encoding="utf-8", errors="replace"),
                                e.substitute, e.build_args)
        missing = missing_images(text, e)
        return "base " + ", ".join(missing) + " not available" if missing else ""

    def _prepare(self, e: Entry, copy: Path, mode: str | None, select: str | None = None,
                 ignore: str | None = None) -> None:
        if mode is not None:
            self.dockopt.write(e.dockerfile, e.context, copy, unsafe=mode == "unsafe", select=select, ignore=ignore)
        if e.substitute:
            df = copy / e.dockerfile
            df.write_text(substitute_bases(df.read_text(encoding="utf-8"), e.substitute, e.build_args),
                          encoding="utf-8")

    def _build_probe(self, e: Entry, repo_dir: Path, name: str, mode: str | None, select: str | None = None,
                     ignore: str | None = None, probe: bool = True,
                     files: dict[str, dict[str, FileEntry] | None] | None = None) -> tuple[engine.Build, Probe | None]:
        """Build (and probe) one variant; with `files`, also read the image's files into files[name]."""
        tag = f"dockopt-field/{_slug(e.key)}:{name}"
        with scratch_copy(repo_dir, self.work) as copy:
            self._prepare(e, copy, mode, select, ignore)
            missing = missing_images((copy / e.dockerfile).read_text(encoding="utf-8", errors="replace"), e)
            if missing:  # a base the rewrite brings in (a slimmer tag, say) that this machine lacks
                return engine.Build(False, 0.0, "", error_line=f"base {', '.join(missing)} not available "
                                    "(brought in by the rewrite)", unavailable=True), None
            # a failed build is tried once more: a mirror that drops a download must not pass for a break
            for attempt in ("", "-again"):
                b = engine.build(copy / e.context, copy / e.dockerfile, tag,
                                 self.logs / _slug(e.key) / f"{name}{attempt}.log", target=e.target,
                                 build_args=e.build_args, timeout=self.timeout)
                if b.ok or b.timed_out:
                    break
        pr = None
        try:
            if b.ok and probe:
                pr = engine.probe(tag, e.smoke, self.probe_seconds)
            if b.ok and files is not None:
                files[name] = image_files(tag, self.work / "saved")
        finally:
            if b.ok and not self.keep_images:
                engine.remove_image(tag)
        return b, pr

    def builds(self, e: Entry, repo_dir: Path, r: FileResult) -> None:
        _say(f"{e.key}: building the original")
        saved: dict[str, dict[str, FileEntry] | None] = {}
        b, orig_probe = self._build_probe(e, repo_dir, "original", None, files=saved)
        self._record(r.original, b, orig_probe)
        if not b.ok:
            r.status, r.reason = "not built", f"the original does not build here: {b.error_line}"
            return
        r.status = "built"
        results: dict[str, tuple[engine.Build, Probe | None]] = {}
        for mode in MODES:
            v: Variant = getattr(r, mode)
            if not v.rewritten:
                continue
            if v.same_as and v.same_as in results:
                mb, mp = results[v.same_as]
            else:
                _say(f"{e.key}: building the {mode} rewrite ({', '.join(v.fixes)})")
                mb, mp = self._build_probe(e, repo_dir, mode, mode, files=saved)
                results[mode] = (mb, mp)
            self._record(v, mb, mp)
            self._compare_files(v, saved.get("original"), saved.get(v.same_as or mode), e.dockerfile)
            v.build_verdict = build_verdict(True, None if mb.unavailable else mb.ok)
            v.probe_verdict = probe_verdict(orig_probe, mp) if mb.ok else ""
            if v.same_as:
                r.breaks += [Break(**{**asdict(x), "mode": mode}) for x in r.breaks if x.mode == v.same_as]
                continue
            if v.build_verdict == BROKEN:
                r.breaks.append(self._blame(e, repo_dir, r, mode, "build", mb.failed_step, mb.error_line, orig_probe))
            elif v.probe_verdict == BROKEN and mp is not None:
                line = mp.tail.splitlines()[-1] if mp.tail else mp.describe()
                r.breaks.append(self._blame(e, repo_dir, r, mode, mp.kind, mp.describe(), line, orig_probe))

    @staticmethod
    def _compare_files(v: Variant, original: dict[str, FileEntry] | None,
                       rewrite: dict[str, FileEntry] | None, dockerfile: str) -> None:
        if original is None or rewrite is None:
            return
        name = Path(dockerfile).name
        found = check_files(original, rewrite, v.fixes, (name, ".dockerignore", f"{name}.dockerignore"))
        v.files_compared, v.files_undeclared, v.files_examples = found.compared, found.undeclared, found.examples

    def _record(self, v: Variant, b: engine.Build, p: Probe | None) -> None:
        v.built, v.build_seconds = (None if b.unavailable else b.ok), round(b.seconds, 1)
        v.failed_step, v.error_line = b.failed_step, b.error_line
        if p is not None:
            v.probe, v.probe_tail = p.describe(), p.tail

    def _blame(self, e: Entry, repo_dir: Path, r: FileResult, mode: str, what: str, step: str, line: str,
               orig_probe: Probe | None) -> Break:
        """Name the codes behind a break.  First one code's fixes at a time (``--select CODE``): the codes
        that break alone are responsible.  When none does, all codes but one (``--ignore CODE``): the
        codes without which the break goes away are responsible together."""
        codes = list(dict.fromkeys(getattr(r, mode).fixes))
        if len(codes) <= 1 or not self.bisect:
            return Break(mode, what, codes if len(codes) == 1 else ["unattributed: " + "+".join(codes)], step, line)
        shown: dict[str, str] = {}
        for code in codes:
            _say(f"{e.key}: {mode} break, trying {code} alone")
            broke, seen = self._still_breaks(e, repo_dir, f"{mode}-only-{code.lower()}", mode, what, orig_probe,
                                             select=code)
            if broke:
                shown[code] = seen
        if shown:
            return Break(mode, what, list(shown), step, line, shown)
        needed = []
        for code in codes:
            _say(f"{e.key}: {mode} break, trying without {code}")
            broke, _ = self._still_breaks(e, repo_dir, f"{mode}-without-{code.lower()}", mode, what, orig_probe,
                                          ignore=code)
            if not broke:
                needed.append(code)
        label = ["together: " + "+".join(needed)] if needed else ["unattributed: " + "+".join(codes)]
        return Break(mode, what, label, step, line)

    def _still_breaks(self, e: Entry, repo_dir: Path, name: str, mode: str, what: str, orig_probe: Probe | None,
                      select: str | None = None, ignore: str | None = None) -> tuple[bool, str]:
        b, p = self._build_probe(e, repo_dir, name, mode, select=select, ignore=ignore, probe=what != "build")
        if what == "build":
            return not b.ok and not b.unavailable, b.error_line
        broke = b.ok and probe_verdict(orig_probe, p) == BROKEN
        return broke, (p.tail.splitlines() or [""])[-1] if p else ""

    # -- one file -------------------------------------------------------------
    def run_one(self, e: Entry) -> FileResult:
        t0 = time.monotonic()
        spent0 = self.dockopt.seconds
        r = FileResult(e.key, e.repo, e.dockerfile, e.context, e.lang, e.commit, substitutions=dict(e.substitute))
        repo_dir = self.root / e.checkout_name
        try:
            if not repo_dir.is_dir():
                r.status, r.reason = "error", f"{repo_dir} is not checked out"
                return r
            head = checkout_commit(repo_dir)
            if head != e.commit:
                r.status = "error"
                r.reason = f"checkout is at {head[:12] or 'no commit'}, the manifest says {e.commit[:12]}"
                return r
            if not (repo_dir / e.dockerfile).is_file():
                r.status, r.reason = "error", f"{e.dockerfile} not found in the checkout"
                return r
            try:
                self.static(e, repo_dir, r)
            except DockoptError as exc:
                r.status, r.reason = "error", f"dockopt: {exc}"
                return r
            if not self.do_build:
                r.reason = "builds not requested (--no-build)"
                return r
            reason = self.blocker(e, repo_dir)
            if reason:
                r.status, r.reason = "not built", reason
                return r
            try:
                self.builds(e, repo_dir, r)
            except DockoptError as exc:
                r.status, r.reason = "error", f"dockopt --write: {exc}"
            return r
        finally:
            r.dockopt_seconds = round(self.dockopt.seconds - spent0, 2)
            r.seconds = round(time.monotonic() - t0, 1)


def missing_images(text: str, e: Entry) -> list[str]:
    """The images that building this Dockerfile text for the entry's target needs and the engine lacks."""
    return [ref for ref in image_refs(text, e.build_args, e.target).external if not engine.image_available(ref)]


def select_entries(entries: list[Entry], patterns: list[str]) -> list[Entry]:
    if not patterns:
        return entries
    return [e for e in entries if any(fnmatch.fnmatch(e.key, p) or p in e.key for p in patterns)]


def load_records(report: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Meta and per-file records of an earlier run's JSON report (empty when there is none)."""
    path = report.with_suffix(".json")
    if not path.exists():
        return {}, []
    doc = json.loads(path.read_text(encoding="utf-8"))
    return doc.get("meta", {}), doc.get("files", [])


def write_records(records: list[dict[str, Any]], meta: dict[str, Any], report: Path) -> None:
    summary = summarize(records)
    report.parent.mkdir(parents=True, exist_ok=True)
    doc = {"meta": meta, "summary": summary, "files": records}
    report.with_suffix(".json").write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    report.write_text(render_markdown(records, summary, meta), encoding="utf-8")


def merge_records(earlier: list[dict[str, Any]], now: dict[str, dict[str, Any]],
                  order: list[str]) -> list[dict[str, Any]]:
    """This run's records over an earlier run's, in manifest order (files no longer listed dropped)."""
    by_key = {rec["key"]: rec for rec in earlier}
    by_key.update(now)
    return [by_key[k] for k in order if k in by_key]


def _render_only(report: Path) -> int:
    """Rewrite `report` (and the totals) from the JSON beside it."""
    old_meta, records = load_records(report)
    if not records:
        print(f"bench.field: no {report.with_suffix('.json')} to render", file=sys.stderr)
        return 2
    write_records(records, old_meta, report)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.field", description=DESCRIPTION)
    ap.add_argument("--root", type=Path, default=Path(os.environ.get("DOCKOPT_FIELD_ROOT", "/work/field")),
                    help="directory holding the checkouts as owner+name (default /work/field)")
    ap.add_argument("--manifest", type=Path, default=HERE / "manifest.tsv")
    ap.add_argument("--report", type=Path, default=HERE / "REPORT.md", help="Markdown report; JSON goes beside it")
    ap.add_argument("--only", action="append", default=[], metavar="PATTERN",
                    help="run only files whose owner/name:path matches (glob or substring); repeatable")
    ap.add_argument("--no-build", action="store_true", help="static checks only (findings and diffs)")
    ap.add_argument("--no-bisect", action="store_true", help="do not rebuild one code at a time after a break")
    ap.add_argument("--probe-seconds", type=float, default=8.0, help="how long the liveness probe watches (8)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds allowed per build (1800)")
    ap.add_argument("--dockopt", default=None, help="the dockopt command (default: the one installed beside python)")
    ap.add_argument("--keep-images", action="store_true", help="keep the images built (tag dockopt-field/...)")
    ap.add_argument("--update", action="store_true",
                    help="keep the earlier report's other files: replace only the files run now")
    ap.add_argument("--render-only", action="store_true",
                    help="rewrite REPORT.md (and the totals) from the JSON beside it; build nothing")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "dockopt-field",
                    help="scratch copies and build logs (default: $TMPDIR/dockopt-field; copies are removed)")
    a = ap.parse_args(argv)
    try:
        all_entries = load_manifest(a.manifest)
        entries = select_entries(all_entries, a.only)
    except (OSError, ManifestError) as exc:
        print(f"bench.field: {exc}", file=sys.stderr)
        return 2
    if a.root.resolve().is_relative_to(HERE.parents[1]):
        print(f"bench.field: --root {a.root} lies inside the project; keep the checkouts outside it", file=sys.stderr)
        return 2
    if a.render_only:
        return _render_only(a.report)
    dockopt = Dockopt(a.dockopt.split() if a.dockopt else default_command())
    meta: dict[str, Any] = {
        "dockopt": dockopt.version(), "command": "python -m bench.field " + " ".join(argv or sys.argv[1:]),
        "manifest": str(a.manifest.name), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "builds": not a.no_build, "probe_seconds": a.probe_seconds}
    if not a.no_build:
        try:
            meta["engine"] = engine.engine_version()
        except engine.EngineError as exc:
            print(f"bench.field: {exc}", file=sys.stderr)
            return 2
    earlier_meta, earlier = load_records(a.report) if a.update else ({}, [])
    if earlier_meta:
        meta["command"] = earlier_meta.get("command", meta["command"]) + "; updated: " + meta["command"]
    done: dict[str, dict[str, Any]] = {}
    work_parent = a.work
    work_parent.mkdir(parents=True, exist_ok=True)
    bench = FieldBench(a.root, dockopt, work_parent, build=not a.no_build, probe_seconds=a.probe_seconds,
                       timeout=a.timeout, bisect=not a.no_bisect, keep_images=a.keep_images)
    t0 = time.monotonic()
    try:
        for i, e in enumerate(entries, 1):
            _say(f"({i}/{len(entries)}) {e.key}")
            r = bench.run_one(e)
            _say(f"{e.key}: {r.status} {r.reason} ({r.seconds:.0f} s)")
            done[r.key] = asdict(r)
            meta["seconds"] = round(time.monotonic() - t0, 1)
            # written after every file: a partial report survives an interrupted run
            write_records(merge_records(earlier, done, [x.key for x in all_entries]), meta, a.report)
    except KeyboardInterrupt:
        print("bench.field: interrupted; the report holds the files done so far", file=sys.stderr)
        return 2
    except engine.EngineError as exc:
        print(f"bench.field: {exc}", file=sys.stderr)
        return 2
    print(f"bench.field: {len(done)} files; report in {a.report}", file=sys.stderr)
    return 0
