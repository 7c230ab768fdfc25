"""`dockopt`: report, --check, --diff or --write fixes for Dockerfiles; --verify them by building.

Exit status: 0 nothing to report or change, 1 findings (report mode, --write: what remains) or
changes (--check, --diff), 2 an error (bad input, unreadable file, bad option, no engine,
internal error). Every finding is located in the user's file: the input, or after --write the
file as written.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any

from . import __version__
from .config import LEVELS, ConfigError, Settings
from .files import FileError, decode, encode, read, write_atomic
from .findings import Finding
from .syntax import ParseError

FORMATS = ("text", "json", "sarif", "github", "checkstyle", "gitlab", "junit")

EPILOG = """\
exit status:
  0  nothing to report (report mode), nothing would change (--check, --diff), nothing left
     after fixing (--write), the builds are equivalent (--verify); always with --exit-zero
  1  findings at or above --fail-level (report mode; with --write: those that remain),
     a file would change (--check, --diff), the builds differ or failed (--verify)
  2  an error: a file that cannot be read or parsed (path:line:column: message), a bad
     option or configuration, an unknown rule code, no Docker engine, an internal error

paths:
  a directory is searched for Dockerfile, Dockerfile.*, *.Dockerfile, *.dockerfile and
  Containerfile, skipping what .gitignore (inside a git repository) and --exclude name; a
  directory with no Dockerfile in it gives a warning and no finding (exit 0, as ruff does);
  a path that does not exist is an error

environment:
  NO_COLOR     no colour, whatever else says (https://no-color.org)
  FORCE_COLOR  colour even when the output is not a terminal (unless NO_COLOR is set)
  DOCKOPT_DEBUG=1  show the traceback of an internal error

configuration: [tool.dockopt] in pyproject.toml or .dockopt.toml, found from each Dockerfile's
directory upwards (stopping at the repository root); flags override it. Rules: --list-rules,
--explain CODE, docs/rules.md.
"""


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="dockopt",
        description="Rewrite Dockerfiles for smaller images and faster rebuilds; prove it by building.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("paths", nargs="*", metavar="PATH",
                    help="Dockerfile, directory (searched for Dockerfiles), or - for stdin")
    what = ap.add_argument_group("what to do (default: report the findings)")
    mode = what.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="report the findings and exit 1 if a fix would change a file; write nothing")
    mode.add_argument("--diff", action="store_true",
                      help="print a unified diff of the fixes (the report goes to stderr); write nothing")
    mode.add_argument("--write", "--fix", action="store_true", dest="write",
                      help="apply the fixes in place (atomically; mode, CRLF, BOM and non-UTF-8 bytes kept)")
    what.add_argument("--verify", action="store_true",
                      help="build the original and the rewrite and compare them (needs a Docker engine); with "
                           "--write or --diff: keep only the fixes the builds prove")
    mode.add_argument("--explain", metavar="CODE",
                      help="print the documentation of a rule (DO101, or hadolint's DL3059)")
    mode.add_argument("--list-rules", action="store_true", help="list every rule: code, name, severity, summary")

    rules = ap.add_argument_group("rule selection (as in ruff: codes or prefixes such as DO1, or ALL)")
    rules.add_argument("--select", metavar="CODES", action="append",
                       help="run only these rules (replaces the configured selection; repeatable)")
    rules.add_argument("--extend-select", metavar="CODES", action="append",
                       help="run these rules too (adds to the selection; repeatable)")
    rules.add_argument("--ignore", metavar="CODES", action="append",
                       help="skip these rules (adds to the configured ignores; repeatable)")
    rules.add_argument("--per-file-ignores", metavar="GLOB:CODES", action="append",
                       help="skip rules for matching files; replaces the configured table (repeatable)")
    rules.add_argument("--extend-per-file-ignores", metavar="GLOB:CODES", action="append",
                       help="skip rules for matching files, merged into the configured table (repeatable)")

    fixes = ap.add_argument_group("fixes")
    fixes.add_argument("--unsafe-fixes", action=argparse.BooleanOptionalAction, default=None,
                       help="also apply fixes that may change what is installed (--no-unsafe-fixes: not even "
                            "when the configuration says so)")
    fixes.add_argument("--force-fix", metavar="CODES", action="append",
                       help="apply these rules' unsafe fixes that otherwise need --verify to prove them "
                            "(DO301, DO302) without it (config: force-fix)")
    fixes.add_argument("--context", metavar="DIR",
                       help="build context directory (default: the Dockerfile's directory)")
    fixes.add_argument("--runtime-base", metavar="IMAGE", help="runtime image for the multi-stage split")

    files = ap.add_argument_group("files")
    files.add_argument("--exclude", metavar="PATTERN", action="append",
                       help="skip files and directories matching this gitignore-style pattern in directory walks, "
                            "besides the configured `exclude` (repeatable, or comma-separated)")
    files.add_argument("--force-exclude", action="store_true",
                       help="apply the excludes to paths named on the command line too (for pre-commit)")
    files.add_argument("--no-respect-gitignore", dest="respect_gitignore", action="store_false",
                       help="walk into files that .gitignore names")
    files.add_argument("--stdin-filename", metavar="NAME", help="name used for - (stdin) in messages and config lookup")
    files.add_argument("--config", metavar="FILE", help="read settings from this .dockopt.toml / pyproject.toml only")
    files.add_argument("-j", "--jobs", metavar="N", type=int, default=None,
                       help="analyse many files in N worker processes (default: the number of CPUs; 1: in this "
                            "process); the output is the same, in the same order")

    out = ap.add_argument_group("output and exit status")
    out.add_argument("--format", choices=FORMATS, default="text",
                     help="text for people; json (docs/json-schema.md), sarif (code scanning), github "
                          "(Actions annotations), checkstyle, gitlab (Code Quality) or junit for CI systems")
    out.add_argument("--output-format", choices=("concise", "full"), default="concise",
                     help="text format: one line per finding (concise), or with its source lines and fix (full)")
    out.add_argument("--statistics", action="store_true", help="text format: count the findings per rule instead")
    out.add_argument("--show-fixes", action="store_true", help="text format: list every fix --write applies")
    out.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings or changes")
    out.add_argument("--fail-level", choices=LEVELS, default=None,
                     help="findings below this severity do not make the exit status 1 (default: info, i.e. all; "
                          "config: fail-level)")
    out.add_argument("-q", "--quiet", action="store_true", help="print only errors (and diffs with --diff)")
    out.add_argument("-v", "--verbose", action="store_true", help="also print, per file, what was done and its time")
    out.add_argument("-V", "--version", action="version", version=f"dockopt {__version__}")

    verify = ap.add_argument_group("--verify")
    verify.add_argument("--smoke", metavar="COMMAND", help="with --verify: run COMMAND in both images and compare")
    verify.add_argument("--liveness", metavar="SECONDS", type=float, default=5.0,
                        help="with --verify and no --smoke: run each image's own ENTRYPOINT/CMD this long and "
                             "compare whether it keeps running and accepts connections on its EXPOSEd ports "
                             "(0: no probe)")
    verify.add_argument("--verify-budget", metavar="SECONDS", type=float, default=None,
                        help="with --verify and --write/--diff: stop searching for the fixes to reject after this "
                             "long; fixes not yet proven are left out")
    verify.add_argument("--backend", choices=["auto", "buildkit", "classic", "sdk"], default="auto",
                        help="with --verify: BuildKit through docker buildx (auto: when the plugin is there) or the "
                             "classic builder (sdk: its old name)")
    verify.add_argument("--builder", metavar="NAME",
                        help="with --verify: the buildx builder to build with (any driver; default: the current one)")
    verify.add_argument("--target", metavar="STAGE", help="with --verify: build this stage of both files")
    verify.add_argument("--secret", metavar="SPEC", action="append", dest="secrets", default=[],
                        help="with --verify: a build secret for both builds, as docker buildx takes it "
                             "(id=NAME[,src=PATH|,env=VAR]); repeatable. Its value is never printed")
    verify.add_argument("--timeout", type=float, default=900, help="with --verify: seconds allowed per build")
    verify.add_argument("--source-file", metavar="PATH",
                        help="with --verify: the context file to edit for the rebuild test (default: one COPY . sends)")
    verify.add_argument("--repeat", metavar="N", type=int, default=1,
                        help="with --verify: run each rebuild-after-an-edit N times and report the median")
    verify.add_argument("--build-arg", metavar="NAME[=VALUE]", action="append", dest="build_args", default=[],
                        help="with --verify: a build argument for both builds; NAME alone takes the value from the "
                             "environment (unset: not passed), as docker build does. Values are never printed")
    return ap


class UsageError(Exception):
    """A bad option value: one line on stderr, exit 2."""


# --------------------------------------------------------------------------- one file


@dataclass
class FileOutcome:
    path: str
    findings: list[Finding] = field(default_factory=list)    # what is shown (see FileReport)
    fixed: list[Finding] = field(default_factory=list)
    planned: frozenset[Finding] = frozenset()
    resolved: frozenset[Finding] = frozenset()
    changed: bool = False
    error: str | None = None
    error_line: int | None = None
    error_column: int | None = None
    original: str = ""
    text: str = ""
    source: str | None = None     # the text the shown findings are located in
    files: dict[str, str] = field(default_factory=dict)   # side files the fixes write (path -> text)
    context_dir: Path | None = None
    unsafe: bool = False
    notes: list[str] = field(default_factory=list)    # one line each, shown on stderr
    refix: Any = None     # --verify with --write/--diff: re-runs the fixer with chosen fixes (dockopt.proof)
    fails: bool = False     # a shown finding at or above the fail level
    seconds: float = 0.0


def _joined(values: list[str] | None) -> str | None:
    """A code list given several times (`--select DO1 --select DO3`) is one list, as in ruff."""
    return None if values is None else ",".join(values)


def cli_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The flags that override configuration (None: not given)."""
    excludes = [p.strip() for item in (args.exclude or []) for p in item.split(",") if p.strip()] or None
    return {"select": _joined(args.select), "extend_select": _joined(args.extend_select),
            "ignore": _joined(args.ignore),
            "per_file_ignores": args.per_file_ignores, "extend_per_file_ignores": args.extend_per_file_ignores,
            "unsafe_fixes": args.unsafe_fixes, "runtime_base": args.runtime_base, "context": args.context,
            "force_fix": _joined(args.force_fix),
            "fail_level": args.fail_level, "exclude": excludes}


def settings_for(path: str, args: argparse.Namespace) -> Settings:
    """Config file settings for this Dockerfile, with the command line's flags on top."""
    from .config import check_codes, load_config_file, load_settings
    from .lint import known_codes
    from .suppress import HADOLINT_EQUIVALENTS

    where = Path(args.stdin_filename or "Dockerfile") if path == "-" else Path(path)
    key = (args.config, where.resolve().parent)
    if key not in _SETTINGS:  # the files of one directory share their configuration
        base = load_config_file(Path(args.config)) if args.config else load_settings(where.resolve())
        settings = base.merged(**cli_settings(args))
        check_codes(settings, known_codes(), HADOLINT_EQUIVALENTS)
        _SETTINGS[key] = settings
    return _SETTINGS[key]


_SETTINGS: dict[tuple[str | None, Path], Settings] = {}  # for one run (cleared by main)


def process(path: str, args: argparse.Namespace, stdin_text: str | None = None) -> FileOutcome:
    from .config import rule_enabled
    from .fixer import fix_text
    from .lint import Linter, check_buildable, default_severity
    from .syntax import parse

    out = FileOutcome(path=path)
    text = read(path).text if stdin_text is None else stdin_text
    out.original = out.text = text
    tree = parse(text)
    check_buildable(tree)
    settings = settings_for(path, args)
    shown = Path(args.stdin_filename) if path == "-" and args.stdin_filename else None
    file_path = Path(path) if path != "-" else shown
    linter = Linter(is_enabled=lambda code: rule_enabled(settings, code, file_path),
                    severity=lambda code: settings.severity_of(code, default_severity(code)))
    if settings.context is not None:
        context_dir: Path | None = settings.context
        if not Path(settings.context).is_dir():
            raise FileError(f"build context {settings.context} is not a directory")
    else:
        context_dir = file_path.parent if file_path is not None else None
    out.unsafe = bool(settings.unsafe_fixes)
    hold = _unproven_hold(args, settings, out)
    res = fix_text(text, linter, unsafe=out.unsafe, path=file_path, context_dir=context_dir, settings=settings,
                   tree=tree, accept=hold)
    if hold is not None:
        held = sorted({f.code for f in res.findings if f.fix is not None and f.fix.applies(True) and not hold(f)})
        out.notes += [f"{code}: fix not applied: --unsafe-fixes applies it only with --verify, which proves it by "
                      f"building (or --force-fix {code})" for code in held]
    if args.verify and (args.write or args.diff):
        out.refix = partial(fix_text, text, linter, unsafe=out.unsafe, path=file_path, context_dir=context_dir,
                            settings=settings, tree=tree)
    out.text, out.changed, out.files, out.fixed = res.text, res.changed, res.files, res.applied
    if args.write:
        out.findings, out.source = res.remaining, res.text
    else:
        out.source = text
        out.findings = res.findings
        out.planned = frozenset(res.findings[i] for i in res.planned)
        out.resolved = frozenset(res.findings[i] for i in res.resolved)
    out.context_dir = context_dir
    out.fails = any(settings.fails(f.severity) for f in out.findings)
    return out


def _unproven_hold(args: argparse.Namespace, settings: Settings, out: FileOutcome) -> Any:
    """Which fixes --unsafe-fixes may apply without --verify: not those of rules whose fixes need
    a build to prove them, unless forced per code (None: every fix may be)."""
    if not out.unsafe or args.verify:
        return None
    from .config import code_matches
    from .proof import needs_proof

    forced = settings.force_fix

    def hold(finding: Finding) -> bool:
        return not needs_proof(finding.code) or any(code_matches(finding.code, sel) for sel in forced)
    return hold


def unified_diff(path: str, before: str, after: str) -> str:
    from difflib import unified_diff as diff

    a = before.splitlines(keepends=True)
    b = after.splitlines(keepends=True)
    lines = []
    relative = path != "-" and not os.path.isabs(path)
    for line in diff(a, b, fromfile=f"a/{path}" if relative else path, tofile=f"b/{path}" if relative else path):
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        lines.append(line)
    return "".join(lines)


# --------------------------------------------------------------------------- output


def rule_infos(docs: bool = True) -> dict[str, Any]:
    """The rule table for the report; the rules' documentation only where the format shows it."""
    from .lint import RULES
    from .report import RuleInfo

    return {p.code: RuleInfo(p.code, p.name, p.summary, p.docs() if docs else "", severity=p.severity)
            for p in RULES}


def to_reports(outcomes: list[FileOutcome]) -> list[Any]:
    from .report import FileReport

    return [FileReport(path=o.path, findings=o.findings, changed=o.changed, fixed=o.fixed, error=o.error,
                       error_line=o.error_line, error_column=o.error_column, planned=o.planned,
                       resolved=o.resolved, source=o.source)
            for o in outcomes]


def report_options(args: argparse.Namespace, outcomes: list[FileOutcome], mode: str = "") -> Any:
    from .report import ReportOptions

    unsafe = bool(args.unsafe_fixes) or any(o.unsafe for o in outcomes)
    return ReportOptions(write=bool(args.write), unsafe_fixes=unsafe, mode=mode, output_format=args.output_format,
                         statistics=args.statistics, show_fixes=args.show_fixes)


def print_report(outcomes: list[FileOutcome], args: argparse.Namespace, stream: IO[str]) -> None:
    from .report import render
    from .report.text import print_text

    options = report_options(args, outcomes)
    rules = rule_infos(docs=args.format == "sarif")
    if args.format == "text":
        if not args.quiet:
            print_text(to_reports(outcomes), rules, options, stream)
    else:
        stream.write(render(args.format, to_reports(outcomes), rules, options))


def print_diff(diff_text: str, stream: IO[str]) -> None:
    from .report.text import print_diff as show

    show(diff_text, stream)


def list_rules(out: IO[str]) -> None:
    from .lint import RULES

    for p in RULES:
        print(f"{p.code}  {p.name:<28} {p.severity:<8} {p.summary}", file=out)


def explain(code: str, out: IO[str], err: IO[str]) -> int:
    from .config import unknown_code_message
    from .lint import by_code, known_codes
    from .rules_doc import suppression_note
    from .suppress import HADOLINT_EQUIVALENTS

    code = code.strip().upper()
    if not code:
        print("dockopt: error: --explain: give a rule code, such as DO101 (--list-rules lists them)", file=err)
        return 2
    note = ""
    if code in HADOLINT_EQUIVALENTS:
        note = f"({code} is hadolint's code; dockopt's equivalent is {HADOLINT_EQUIVALENTS[code]})\n\n"
        code = HADOLINT_EQUIVALENTS[code]
    p = by_code().get(code)
    if p is None:
        problem = unknown_code_message(code, known_codes(), HADOLINT_EQUIVALENTS) or f"{code} names several rules"
        print(f"dockopt: error: --explain: {problem}", file=err)
        return 2
    print(f"{note}# {p.code} {p.name}\n\n{p.summary}\n\nSeverity: {p.severity}. {suppression_note(p)}\n\n{p.docs()}",
          file=out)
    return 0


# --------------------------------------------------------------------------- --verify


def verify_build_args(specs: Sequence[str]) -> dict[str, str]:
    """`--build-arg` values: NAME=VALUE, or NAME taking VALUE from the environment (skipped when unset)."""
    out: dict[str, str] = {}
    for spec in specs:
        name, eq, value = spec.partition("=")
        if not name or any(c.isspace() for c in name):
            raise ValueError(f"--build-arg needs NAME or NAME=VALUE, not {spec.split('=', 1)[0]!r}=...")
        if eq:
            out[name] = value
        elif name in os.environ:
            out[name] = os.environ[name]
    return out


def _timed_out(report: Any) -> str | None:
    for side in (report.original, report.rewritten):
        if side is not None and side.build.timed_out:
            return f"the {side.role} build timed out ({side.build.error}; --timeout sets the limit)"
    return None


def _verify_json(o: FileOutcome, args: argparse.Namespace, **fields: Any) -> str:
    """A --verify result in the versioned JSON document (mode "verify"): the file's findings and
    fixes, with the verify report (or why there is none) in its file object."""
    from .report.json_format import dumps, to_json_document

    options = report_options(args, [o], mode="verify")
    return dumps(to_json_document(to_reports([o]), rule_infos(), options, extra={o.path: fields}))


def show_diff(o: FileOutcome, out: IO[str]) -> None:
    """The unified diffs of the Dockerfile's rewrite and of the side files the fixes write."""
    if o.text != o.original:
        print_diff(unified_diff(o.path, o.original, o.text), out)
    for side, side_text in o.files.items():
        before = Path(side).read_text(encoding="utf-8") if Path(side).exists() else ""
        print_diff(unified_diff(os.path.relpath(side), before, side_text), out)


def _verify_first(o: FileOutcome, path: str, args: argparse.Namespace, out: IO[str], err: IO[str]) -> int | None:
    """The exit status when there is nothing to verify or no way to; None to go on."""
    if path == "-" or o.context_dir is None:
        print(f"{o.path}: --verify needs a Dockerfile on disk (or --context DIR)", file=err)
        return 2
    if not o.changed:
        msg = "no fixes apply: nothing to verify (the rewrite is the original)"
        if args.format == "json":  # with --diff on stderr, as a proof would be
            (err if args.diff else out).write(_verify_json(o, args, verify=None, message=msg))
        else:
            print(f"{o.path}: {msg}", file=err if args.diff else out)
        return 0
    try:
        import docker  # noqa: F401  (the verifier's engine client)
    except ModuleNotFoundError as exc:
        print(f"dockopt: --verify needs the Docker SDK ({exc.name} is not installed): "
              "pip install 'dockopt[verify]'", file=err)
        return 2
    return None


def _own_ignore(o: FileOutcome, path: str) -> str | None:
    """The text of the Dockerfile's own `<name>.dockerignore` when BuildKit reads it for this
    build (None: the context's .dockerignore, or none, applies)."""
    from .facts.buildcontext import BuildContext

    try:
        own = BuildContext(Path(o.context_dir or "."), dockerfile=Path(path)).own_ignore_file
        return None if own is None else own.read_text(encoding="utf-8", errors="surrogateescape")
    except (OSError, ValueError):
        return None


def _verify(o: FileOutcome, path: str, args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Build the original and the rewrite; 0 equivalent, 1 different or failed,
    2 when the engine is the problem (none, stopped, disk full) or a build timed out."""
    first = _verify_first(o, path, args, out, err)
    if first is not None:
        return first
    from .verify import EngineFault, verify

    fixes = [f"{f.code} {f.fix.title}" for f in o.fixed if f.fix]
    try:
        build_args = verify_build_args(args.build_args)
        report = verify(o.original, o.text, Path(o.context_dir or "."), dockerfile_name=Path(path).name,
                        smoke=args.smoke, backend=args.backend, timeout=args.timeout, source_file=args.source_file,
                        progress=err.isatty() and not args.quiet, build_args=build_args,
                        rebuild_repeats=args.repeat, builder=args.builder, target=args.target,
                        secrets=tuple(args.secrets), dockerignore=_own_ignore(o, path),
                        rewritten_dockerignore=next(
                            (t for p, t in o.files.items() if p.endswith(".dockerignore")), None))
    except (EngineFault, ValueError) as exc:
        # one line, no report: nothing was verified
        if args.format == "json":
            out.write(_verify_json(o, args, fixes=fixes, verify=None, message=str(exc)))
        print(f"dockopt: {o.path}: {exc}", file=err)
        return 2
    return _emit_verify_report(o, args, fixes, report, out, err)


def _emit_verify_report(o: FileOutcome, args: argparse.Namespace, fixes: list[str], report: Any,
                        out: IO[str], err: IO[str]) -> int:
    """Write a finished verify report; 0 equivalent, 1 different or failed, 2 a build timed out."""
    from .report.text import make_console
    from .verify import render_report

    timed_out = _timed_out(report)
    if args.format == "json":
        fields: dict[str, Any] = {"fixes": fixes, "verify": report.to_dict()}
        if timed_out:
            fields["message"] = timed_out
        out.write(_verify_json(o, args, **fields))
    elif not timed_out:
        render_report(report, make_console(out))
    if timed_out:
        print(f"dockopt: {o.path}: {timed_out}", file=err)
        return 2
    return 0 if report.equivalent else 1


def _prove(o: FileOutcome, path: str, args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """--write/--diff with --verify: build, keep the fixes the checks prove, write or show only those.

    0 every fix proven (and written); 1 a fix rejected or left out, nothing provable, or (--diff)
    a proven change to show; 2 when the engine is the problem."""
    first = _verify_first(o, path, args, out, err)
    if first is not None:
        return first
    from .proof import fix_items, key_of, renderer
    from .verify import EngineFault
    from .verify.prove import prove

    items, left_out = fix_items(o.fixed)
    try:
        report = prove(o.original, items, renderer(o.refix), Path(o.context_dir or "."), smoke=args.smoke,
                       liveness=args.liveness, budget=args.verify_budget, backend=args.backend,
                       timeout=args.timeout, build_args=verify_build_args(args.build_args), builder=args.builder,
                       target=args.target, secrets=tuple(args.secrets), unproven=left_out,
                       progress=err.isatty() and not args.quiet, dockerignore=_own_ignore(o, path))
    except (EngineFault, ValueError) as exc:
        if args.format == "json":  # the document still comes, saying why there is no proof
            (err if args.diff else out).write(_verify_json(o, args, proof=None, message=str(exc)))
        if not (args.format == "json" and args.diff):  # stderr: the document alone
            print(f"dockopt: {o.path}: {exc}", file=err)
        return 2
    if args.write:
        # what remains is what the proven rewrite leaves, located in it
        kept = {item.key for item in report.kept}
        res = o.refix(accept=lambda f: key_of(f) in kept)
        o.findings, o.source, o.fixed = res.remaining, res.text, res.applied
    return _show_proof(o, path, report, args, out, err)


def _show_proof(o: FileOutcome, path: str, report: Any, args: argparse.Namespace, out: IO[str],
                err: IO[str]) -> int:
    """Write or show the proven rewrite and the report; the exit status of `_prove`."""
    from .verify.prove import render_text

    changed = report.text != o.original or bool(report.files)
    proven = FileOutcome(path=o.path, original=o.original, text=report.text, files=report.files, changed=changed)
    if changed and args.write:
        try:
            write_atomic(path, report.text)
            for side, side_text in report.files.items():
                write_atomic(side, side_text)
        except FileError as exc:
            print(f"{o.path}: {exc.message}", file=err)
            return 2
    if changed and args.diff:
        show_diff(proven, out)
    if args.format == "json":
        (err if args.diff else out).write(_verify_json(o, args, proof=report.to_dict()))
    elif not args.quiet or not report.proven:
        for line in render_text(report, o.path):
            print(line, file=err if args.diff else out)
    return 1 if report.rejected or report.unproven or not report.proven or (args.diff and changed) else 0


# --------------------------------------------------------------------------- the run


def _surrogate_safe(stream: IO[str]) -> IO[str]:
    """Write a kept non-UTF-8 byte of a Dockerfile (a lone surrogate) back as that byte."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None and (getattr(stream, "encoding", "") or "").lower().replace("-", "") == "utf8":
        reconfigure(errors="surrogateescape")
    return stream


def main(argv: Sequence[str] | None = None) -> int:
    _SETTINGS.clear()
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # the verifier has already removed what it created; files are written atomically
        print("dockopt: interrupted", file=sys.stderr)
        return 2


def _check_options(ap: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Option values argparse cannot check itself; unknown codes name the nearest valid one."""
    from .config import check_codes
    from .lint import known_codes
    from .suppress import HADOLINT_EQUIVALENTS

    try:
        check_codes(Settings().merged(**cli_settings(args)), known_codes(), HADOLINT_EQUIVALENTS)
    except ConfigError as exc:
        ap.error(str(exc))
    if args.format != "text" and (args.output_format != "concise" or args.statistics or args.show_fixes):
        ap.error("--output-format, --statistics and --show-fixes shape the text format; "
                 f"--format {args.format} has its own layout")
    if args.jobs is not None and args.jobs < 1:
        ap.error("--jobs must be at least 1")
    _check_verify_options(ap, args)


def _check_verify_options(ap: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.verify and len(args.paths) != 1:
        ap.error("--verify takes one Dockerfile")
    if args.verify and args.check:
        ap.error("--verify goes with --write or --diff (or alone), not with --check")
    for flag in ("liveness", "verify_budget"):
        value = getattr(args, flag)
        if value is not None and value < 0:
            ap.error(f"--{flag.replace('_', '-')} must not be negative")
    if args.timeout <= 0:
        ap.error("--timeout must be a positive number of seconds")
    if args.repeat < 1:
        ap.error("--repeat must be 1 or more")
    ignored = _verify_only_flags(args)
    if ignored and not args.verify:  # they would do nothing, and the user would think them applied
        ap.error(f"{', '.join(ignored)} only work{'s' if len(ignored) == 1 else ''} with --verify")


def _verify_only_flags(args: argparse.Namespace) -> list[str]:
    """The --verify options given a value other than their default."""
    defaults: dict[str, Any] = {"smoke": None, "liveness": 5.0, "verify_budget": None, "backend": "auto",
                                "builder": None, "target": None, "secrets": [], "timeout": 900, "source_file": None,
                                "repeat": 1, "build_args": []}
    names = {"secrets": "secret", "build_args": "build-arg"}
    return [f"--{names.get(dest, dest.replace('_', '-'))}" for dest, default in defaults.items()
            if getattr(args, dest) != default]


def _main(argv: Sequence[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    out = _surrogate_safe(sys.stdout)
    err = _surrogate_safe(sys.stderr)
    if args.list_rules:
        list_rules(out)
        return 0
    if args.explain is not None:
        return explain(args.explain, out, err)
    if not args.paths:
        ap.print_usage(err)
        print("dockopt: error: give a Dockerfile, a directory or - (stdin)", file=err)
        return 2
    _check_options(ap, args)
    return Run(args, out, err).run()


PARALLEL_FROM = 8   # files; fewer are not worth starting worker processes for
FILES_PER_WORKER = 4  # no more workers than give each this many files


def cpu_count() -> int:
    """The CPUs this process may run on (its affinity mask, where the system has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def workers_for(paths: Sequence[str], args: argparse.Namespace) -> int:
    """How many worker processes analyse `paths` (1: this process does, with no pool).

    Many files are spread over the CPUs, since every file is read and fixed on its own; one
    file, stdin, --verify (builds, one file), and a --write naming one file twice (the second
    must see the first's rewrite, as in a serial run) stay in this process."""
    jobs = args.jobs if args.jobs is not None else cpu_count()
    if jobs < 2 or len(paths) < PARALLEL_FROM or "-" in paths or args.verify:
        return 1
    if args.write and len({os.path.realpath(p) for p in paths}) < len(paths):
        return 1
    return min(jobs, len(paths) // FILES_PER_WORKER)


def _pool_context() -> Any:
    """fork where the platform has it and it is the safe choice (Linux): a worker starts with
    the parent's modules imported and its grammar loaded, instead of importing them again."""
    import multiprocessing

    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None


def one_file(path: str, args: argparse.Namespace) -> FileOutcome:
    """Process one file; an outcome with `error` set when it cannot be (also in a worker process)."""
    shown = args.stdin_filename or path if path == "-" else path
    try:
        t0 = time.perf_counter()
        stdin_text = decode(sys.stdin.buffer.read(), "-") if path == "-" else None
        o = process(path, args, stdin_text)
        o.seconds = time.perf_counter() - t0
        o.path = shown
        return o
    except (ParseError, FileError) as exc:
        return FileOutcome(path=shown, error=exc.message, error_line=exc.line, error_column=exc.column)
    except ConfigError as exc:
        return FileOutcome(path=shown, error=f"configuration error: {exc}")
    except RecursionError:  # hundreds of nested shell constructs (BuildKit builds them; nobody writes them)
        if os.environ.get("DOCKOPT_DEBUG"):
            raise
        return FileOutcome(path=shown, error="nested too deeply to analyse (a shell script with hundreds of nested "
                                             "$(...), if, { } or ( ) levels): not checked")
    except Exception as exc:  # a bug (FixerError included): say so plainly, never a traceback
        if os.environ.get("DOCKOPT_DEBUG"):
            raise
        return FileOutcome(path=shown, error=f"internal error: {type(exc).__name__}: {exc} "
                                             "(set DOCKOPT_DEBUG=1 for details)")


class Run:
    """One invocation over its paths: each file read, fixed in memory, written or shown."""

    def __init__(self, args: argparse.Namespace, out: IO[str], err: IO[str]):
        self.args, self.out, self.err = args, out, err
        self.outcomes: list[FileOutcome] = []
        self.errors = 0
        self.verify_failures = 0
        # a report in a machine format that goes to stderr (the diff, or a file fixed from stdin, owns
        # stdout) is all stderr holds (but --verbose lines), so that it parses: errors are in it,
        # notes and warnings are left out
        owned = args.diff or (args.write and "-" in args.paths)
        self.report_on_stderr = bool(owned) and args.format != "text" and not args.verify
        self.pooled = False             # outcomes come from worker processes
        self.written: list[str] = []    # the real paths this run wrote, in order (--write)

    def run(self) -> int:
        from .discover import Discovery

        args, err = self.args, self.err
        discovery = Discovery(excludes=cli_settings(args)["exclude"] or (), respect_gitignore=args.respect_gitignore,
                              force_exclude=args.force_exclude, config=args.config)
        for path, o in self.outcomes_of(list(discovery.paths(args.paths))):
            if self.pooled and self.written and self.reads_written(path, o):
                # analysed by a worker before an earlier file's rewrite that it reads (a shared
                # build context, a .dockerignore): again here, as a serial run analyses it
                o = one_file(path, args)
            if o.error is not None:
                self.error(o.path, o.error, o.error_line, o.error_column)
                continue
            self.tell(o)
            if args.verify:
                code = (_prove if args.write or args.diff else _verify)(o, path, args, self.out, err)
                if code == 2:
                    return 2
                self.verify_failures += code
                continue
            if args.write and not self.write(path, o):
                continue
            if args.diff and o.changed:
                self.diff(o)
            self.outcomes.append(o)
        for warning in discovery.warnings if not self.report_on_stderr else ():
            print(f"dockopt: warning: {warning}", file=err)
        return self.finish()

    def tell(self, o: FileOutcome) -> None:
        """On stderr: with --verbose what was done to the file; its notes."""
        if self.args.verbose:
            print(f"{o.path}: {len(o.findings)} findings, {len(o.fixed)} fixes, context "
                  f"{o.context_dir or 'none'}, {o.seconds * 1000:.0f} ms", file=self.err)
        for note in o.notes if not self.report_on_stderr else ():
            print(f"{o.path}: note: {note}", file=self.err)

    def outcomes_of(self, paths: list[str]) -> Iterator[tuple[str, FileOutcome]]:
        """Each path with its outcome, in the order given; with several workers (`--jobs`) the
        files are analysed in parallel, and shown and written here, in that same order."""
        workers = workers_for(paths, self.args)
        self.pooled = workers > 1
        if workers < 2:
            for path in paths:
                yield path, one_file(path, self.args)
            return
        import gc
        from concurrent.futures import ProcessPoolExecutor

        from .shell.parse import warm_up as load_shell_grammar
        from .syntax.parser import warm_up as load_grammar

        load_grammar()  # once here, not once per worker
        load_shell_grammar()
        # what the workers inherit is never collected in them: their collector neither scans it
        # nor writes its pages (the gc module's advice for a fork without exec)
        gc.freeze()
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context()) as pool:
                chunk = max(1, min(16, len(paths) // (workers * 8)))
                yield from zip(paths, pool.map(partial(one_file, args=self.args), paths, chunksize=chunk),
                               strict=True)
        finally:
            gc.unfreeze()

    def error(self, path: str, message: str, line: int | None = None, column: int | None = None) -> None:
        """Errors go to stderr as `path:line:col: message`, and into the report's file entry."""
        self.errors += 1
        where = f"{line}:{column or 1}: " if line is not None else " "
        if not self.report_on_stderr:
            print(f"{path}:{where}{message}", file=self.err)
        self.outcomes.append(FileOutcome(path=path, error=message, error_line=line, error_column=column))

    def write(self, path: str, o: FileOutcome) -> bool:
        try:
            if path == "-":
                self.out.flush()
                self.out.buffer.write(encode(o.text))  # type: ignore[attr-defined]
                self.out.buffer.flush()  # type: ignore[attr-defined]
            elif o.changed and write_atomic(path, o.text):
                self.written.append(os.path.realpath(path))
            for side, side_text in o.files.items():
                if write_atomic(side, side_text):
                    self.written.append(os.path.realpath(side))
        except FileError as exc:
            self.error(o.path, exc.message)
            return False
        return True

    def reads_written(self, path: str, o: FileOutcome) -> bool:
        """Whether a file this run wrote lies where the analysis of `path` reads: in the
        Dockerfile's directory (the file itself, its own .dockerignore) or its build context."""
        roots = {os.path.realpath(os.path.dirname(path) or ".")}
        if o.context_dir is not None:
            roots.add(os.path.realpath(o.context_dir))
        return any(w.startswith(root.rstrip(os.sep) + os.sep) for w in self.written for root in roots)

    def diff(self, o: FileOutcome) -> None:
        show_diff(o, self.out)

    def finish(self) -> int:
        args = self.args
        if args.verify:
            return 2 if self.errors else (0 if args.exit_zero else (1 if self.verify_failures else 0))
        # the diff (or a file fixed from stdin) owns stdout; the report, in any format, then goes
        # to stderr (a JSON or XML report after a diff would be neither)
        owned = args.diff or (args.write and "-" in args.paths)
        self.out.flush()  # what stdout holds comes first, also when both go to one pipe
        print_report(self.outcomes, args, self.err if owned else self.out)
        if self.errors:
            return 2
        if args.exit_zero:
            return 0
        if args.check or args.diff:
            return 1 if any(o.changed for o in self.outcomes) else 0
        return 1 if any(o.fails for o in self.outcomes) else 0
