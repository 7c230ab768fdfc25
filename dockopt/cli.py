"""`dockopt`: report, --check, --diff or --write fixes for Dockerfiles; --verify them by building.

Exit status: 0 nothing to report or change, 1 findings (report mode) or changes (--check,
--diff), 2 an error (bad input, unreadable file, no engine, internal error).
"""
from __future__ import annotations

import argparse
import difflib
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .config import ConfigError
from .files import FileError, decode, read, write_atomic
from .findings import Finding, Safety
from .fixer import FixerError, fix_text
from .lint import Linter
from .passes import ALL_PASSES, by_code
from .syntax import Dockerfile, ParseError, parse

DOCKERFILE_NAMES = ("dockerfile", "containerfile")
SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"}


def is_dockerfile_name(name: str) -> bool:
    low = name.lower()
    if low in DOCKERFILE_NAMES:
        return True
    if low.startswith(("dockerfile.", "dockerfile-", "dockerfile_", "containerfile.")):
        return not low.endswith((".md", ".dockerignore", ".txt", ".sh", ".yml", ".yaml", ".json"))
    return low.endswith((".dockerfile", ".containerfile"))


def discover(paths: Sequence[str]) -> Iterator[str]:
    for p in paths:
        if p == "-":
            yield p
            continue
        path = Path(p)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
                for name in sorted(files):
                    if is_dockerfile_name(name):
                        yield str(Path(root) / name)
        else:
            yield p


@dataclass
class FileOutcome:
    path: str
    findings: list[Finding] = field(default_factory=list)
    fixed: list[Finding] = field(default_factory=list)
    changed: bool = False
    unsafe_held_back: int = 0
    error: str | None = None
    original: str = ""
    text: str = ""
    files: dict = field(default_factory=dict)   # side files the fixes write (path -> text)
    context_dir: Path | None = None
    unsafe: bool = False


class UsageError(Exception):
    pass


def check_instructions(tree: Dockerfile) -> None:
    """Docker refuses to build with an instruction it does not know; so does dockopt."""
    for ins in tree.instructions:
        p = ins.parsed.sub if ins.keyword == "ONBUILD" and ins.parsed.sub else ins.parsed
        if not p.keyword:
            raise ParseError("empty instruction (a line holding only the escape character)", ins.start_line, 1)
        if p.keyword.lower() not in _KNOWN:
            raise ParseError(f"unknown instruction: {p.keyword}", ins.start_line, ins.column)


from .syntax.rules import INSTRUCTIONS as _KNOWN  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="dockopt",
        description="Rewrite Dockerfiles for smaller images and faster rebuilds; prove it by building.",
    )
    ap.add_argument("paths", nargs="*", metavar="PATH",
                    help="Dockerfile, directory (searched for Dockerfiles), or - for stdin")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--diff", action="store_true", help="print a unified diff of the fixes; write nothing")
    mode.add_argument("--write", "--fix", action="store_true", dest="write", help="apply the fixes in place")
    mode.add_argument("--check", action="store_true", help="only say whether anything would change")
    mode.add_argument("--verify", action="store_true",
                      help="build the original and the rewrite and compare them (needs a Docker engine)")
    ap.add_argument("--unsafe-fixes", action="store_true", default=None,
                    help="also apply fixes that may change what is installed")
    ap.add_argument("--select", metavar="CODES", help="comma-separated codes or prefixes to run (e.g. DO1,DO201)")
    ap.add_argument("--ignore", metavar="CODES", help="comma-separated codes or prefixes to skip")
    ap.add_argument("--context", metavar="DIR", help="build context directory (default: the Dockerfile's directory)")
    ap.add_argument("--format", choices=["text", "json", "sarif", "github"], default="text")
    ap.add_argument("--stdin-filename", metavar="NAME", help="name used for - (stdin) in messages and config lookup")
    ap.add_argument("--config", metavar="FILE", help="read settings from this .dockopt.toml / pyproject.toml")
    ap.add_argument("--runtime-base", metavar="IMAGE", help="runtime image for the multi-stage split")
    ap.add_argument("--smoke", metavar="COMMAND", help="with --verify: run COMMAND in both images and compare")
    ap.add_argument("--backend", choices=["auto", "sdk", "buildkit"], default="auto", help="with --verify: how to build")
    ap.add_argument("--timeout", type=float, default=900, help="with --verify: seconds allowed per build")
    ap.add_argument("--source-file", metavar="PATH",
                    help="with --verify: the context file to edit for the rebuild test (default: one COPY . sends)")
    ap.add_argument("--repeat", metavar="N", type=int, default=1,
                    help="with --verify: run each rebuild-after-an-edit N times and report the median")
    ap.add_argument("--build-arg", metavar="NAME[=VALUE]", action="append", dest="build_args", default=[],
                    help="with --verify: a build argument for both builds; NAME alone takes the value from the "
                         "environment (unset: not passed), as docker build does. Values are never printed")
    ap.add_argument("--explain", metavar="CODE", help="print the documentation of a rule")
    ap.add_argument("--list-rules", action="store_true", help="list every rule")
    ap.add_argument("-q", "--quiet", action="store_true", help="print only errors (and diffs with --diff)")
    ap.add_argument("-v", "--verbose", action="store_true", help="also print skipped checks and timing")
    ap.add_argument("--version", action="version", version=f"dockopt {__version__}")
    return ap


def settings_for(path: str, args):
    """Config file settings for this Dockerfile, with the command line's flags on top."""
    from .config import load_config_file, load_settings

    if args.config:
        base = load_config_file(Path(args.config))
    else:
        where = Path(args.stdin_filename or "Dockerfile") if path == "-" else Path(path)
        base = load_settings(where.resolve())
    return base.merged(select=args.select, ignore=args.ignore, unsafe_fixes=args.unsafe_fixes,
                       runtime_base=args.runtime_base, context=args.context)


def process(path: str, args, stdin_text: str | None = None) -> FileOutcome:
    from .config import rule_enabled

    out = FileOutcome(path=path)
    text = read(path).text if stdin_text is None else stdin_text
    out.original = out.text = text
    tree = parse(text)
    check_instructions(tree)
    settings = settings_for(path, args)
    shown = Path(args.stdin_filename) if path == "-" and args.stdin_filename else None
    file_path = Path(path) if path != "-" else shown
    linter = Linter(ALL_PASSES, is_enabled=lambda code: rule_enabled(settings, code, file_path))
    if settings.context is not None:
        context_dir = settings.context
        if not Path(context_dir).is_dir():
            raise FileError(f"build context {context_dir} is not a directory")
    else:
        context_dir = file_path.parent if file_path is not None else None
    unsafe = bool(settings.unsafe_fixes)
    if args.write or args.diff or args.check or args.verify:
        res = fix_text(text, linter, unsafe=unsafe, path=file_path, context_dir=context_dir, settings=settings)
        out.text = res.text
        out.changed = res.changed
        out.fixed = res.applied
        out.files = res.files
        out.unsafe_held_back = res.unsafe_held_back
        out.findings = res.remaining if args.write else _report_findings(res)
    else:
        out.findings = linter.run(tree, path=file_path, context_dir=context_dir, settings=settings)
        out.unsafe_held_back = sum(1 for f in out.findings
                                   if f.fix is not None and f.fix.safety is Safety.UNSAFE and not unsafe)
    out.context_dir = context_dir
    out.unsafe = unsafe
    return out


def _report_findings(res) -> list[Finding]:
    """What --check/--diff report: the fixes that would apply, then what stays."""
    return sorted(res.applied + res.remaining, key=lambda f: (f.line, f.column, f.code))


def unified_diff(path: str, before: str, after: str) -> str:
    a = before.splitlines(keepends=True)
    b = after.splitlines(keepends=True)
    lines = []
    relative = path != "-" and not os.path.isabs(path)
    for line in difflib.unified_diff(a, b, fromfile=f"a/{path}" if relative else path,
                                     tofile=f"b/{path}" if relative else path):
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        lines.append(line)
    return "".join(lines)


def _print_report(outcomes: list[FileOutcome], args, stream) -> None:
    from .report import ReportOptions, render
    from .report.text import make_console, print_text

    reports = outcomes_to_reports(outcomes)
    unsafe = bool(args.unsafe_fixes) or any(o.unsafe for o in outcomes)
    options = ReportOptions(write=bool(args.write), unsafe_fixes=unsafe)
    if args.format == "text":
        if args.quiet:
            return
        print_text(reports, rule_infos(), options, make_console(stream))
    else:
        stream.write(render(args.format, reports, rule_infos(), options))


def _print_diff(diff_text: str, stream) -> None:
    from .report.text import make_console, print_diff, use_color

    if use_color(stream):
        print_diff(diff_text, make_console(stream))
    else:
        stream.write(diff_text)


def _mode(args) -> str:
    if args.write:
        return "write"
    if args.diff:
        return "diff"
    if args.check:
        return "check"
    return "report"


def outcomes_to_reports(outcomes: list[FileOutcome]):
    from .report import FileReport

    return [FileReport(path=o.path, findings=o.findings, changed=o.changed, fixed=o.fixed, error=o.error)
            for o in outcomes]


def rule_infos():
    from .report import RuleInfo

    return {p.code: RuleInfo(p.code, p.name, p.summary, p.docs()) for p in ALL_PASSES}


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


def _timed_out(report) -> str | None:
    for side in (report.original, report.rewritten):
        if side is not None and side.build.timed_out:
            return f"the {side.role} build timed out ({side.build.error}; --timeout sets the limit)"
    return None


def _verify(o: FileOutcome, path: str, args, out, err) -> int:
    """Build the original and the rewrite; 0 equivalent, 1 different or failed,
    2 when the engine is the problem (none, stopped, disk full) or a build timed out."""
    import json

    from .report.text import make_console
    from .verify import EngineFault, render_report, verify

    if path == "-" or o.context_dir is None:
        print(f"{o.path}: --verify needs a Dockerfile on disk (or --context DIR)", file=err)
        return 2
    if not o.changed:
        msg = "no fixes apply: nothing to verify (the rewrite is the original)"
        if args.format == "json":
            out.write(json.dumps({"path": o.path, "changed": False, "verify": None, "message": msg}, indent=2) + "\n")
        else:
            print(f"{o.path}: {msg}", file=out)
        return 0
    fixes = [f"{f.code} {f.fix.title}" for f in o.fixed if f.fix]
    try:
        build_args = verify_build_args(args.build_args)
        report = verify(o.original, o.text, Path(o.context_dir), dockerfile_name=Path(path).name,
                        smoke=args.smoke, backend=args.backend, timeout=args.timeout, source_file=args.source_file,
                        progress=err.isatty() and not args.quiet, build_args=build_args,
                        rebuild_repeats=args.repeat)
    except (EngineFault, ValueError) as exc:
        # one line, no report: nothing was verified
        if args.format == "json":
            doc = {"path": o.path, "changed": True, "fixes": fixes, "verify": None, "error": str(exc)}
            out.write(json.dumps(doc, indent=2) + "\n")
        print(f"dockopt: {o.path}: {exc}", file=err)
        return 2
    timed_out = _timed_out(report)
    if args.format == "json":
        doc = {"path": o.path, "changed": True, "fixes": fixes, "verify": report.to_dict()}
        if timed_out:
            doc["error"] = timed_out
        out.write(json.dumps(doc, indent=2) + "\n")
    elif not timed_out:
        render_report(report, make_console(out))
    if timed_out:
        print(f"dockopt: {o.path}: {timed_out}", file=err)
        return 2
    return 0 if report.equivalent else 1


def _error(outcomes: list[FileOutcome], path: str, message: str, err) -> None:
    """Errors go to stderr as `path:line:col: message`, and into the report's file entry."""
    print(f"{path}:{message}" if message[:1].isdigit() else f"{path}: {message}", file=err)
    outcomes.append(FileOutcome(path=path, error=message))


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # the verifier has already removed what it created; files are written atomically
        print("dockopt: interrupted", file=sys.stderr)
        return 2


def _main(argv: Sequence[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    out = sys.stdout
    err = sys.stderr
    if args.list_rules:
        for p in ALL_PASSES:
            print(f"{p.code}  {p.name:<28} {p.summary}", file=out)
        return 0
    if args.explain:
        p = by_code().get(args.explain.strip().upper())
        if p is None:
            print(f"dockopt: unknown rule code {args.explain!r} (see --list-rules)", file=err)
            return 2
        print(f"# {p.code} {p.name}\n\n{p.summary}\n\n{p.docs()}", file=out)
        return 0
    if not args.paths:
        ap.print_usage(err)
        print("dockopt: error: give a Dockerfile, a directory or - (stdin)", file=err)
        return 2
    outcomes: list[FileOutcome] = []
    errors = 0
    verify_failures = 0
    for path in discover(args.paths):
        shown = args.stdin_filename or path if path == "-" else path
        try:
            stdin_text = None
            if path == "-":
                stdin_text = decode(sys.stdin.buffer.read(), "-")
            t0 = time.perf_counter()
            o = process(path, args, stdin_text)
            if args.verbose:
                print(f"{shown}: {len(o.findings)} findings, {len(o.fixed)} fixes, unsafe held back "
                      f"{o.unsafe_held_back}, context {o.context_dir or 'none'}, "
                      f"{(time.perf_counter() - t0) * 1000:.0f} ms", file=err)
            o.path = shown
        except ParseError as exc:
            errors += 1
            _error(outcomes, shown, f"{exc.line}:{exc.column}: {exc.message}", err)
            continue
        except FileError as exc:
            errors += 1
            loc = f"{exc.line}:{exc.column}: " if exc.line is not None else ""
            _error(outcomes, shown, loc + exc.message, err)
            continue
        except FixerError as exc:
            errors += 1
            _error(outcomes, shown, f"internal error: {exc}", err)
            continue
        except ConfigError as exc:
            errors += 1
            _error(outcomes, shown, f"configuration error: {exc}", err)
            continue
        except KeyboardInterrupt:
            print("dockopt: interrupted", file=err)
            return 2
        except Exception as exc:  # a bug: say so plainly, never a traceback for the user
            errors += 1
            if os.environ.get("DOCKOPT_DEBUG"):
                raise
            _error(outcomes, shown, f"internal error: {type(exc).__name__}: {exc} (set DOCKOPT_DEBUG=1 for details)", err)
            continue
        if args.write and o.changed:
            try:
                if path == "-":
                    out.write(o.text)
                else:
                    write_atomic(path, o.text)
                for side, side_text in o.files.items():
                    write_atomic(side, side_text)
            except FileError as exc:
                errors += 1
                _error(outcomes, shown, exc.message, err)
                continue
        elif args.write and path == "-":
            out.write(o.text)
        if args.verify:
            code = _verify(o, path, args, out, err)
            if code == 2:
                return 2
            verify_failures += code
            continue
        if args.diff and o.changed:
            if o.text != o.original:
                _print_diff(unified_diff(shown, o.original, o.text), out)
            for side, side_text in o.files.items():
                before = Path(side).read_text(encoding="utf-8") if Path(side).exists() else ""
                _print_diff(unified_diff(os.path.relpath(side), before, side_text), out)
        outcomes.append(o)
    if args.verify:
        return 2 if errors else (1 if verify_failures else 0)
    # the diff (or a file fixed from stdin) owns stdout; the report then goes to stderr
    report_stream = err if (args.diff or (args.write and "-" in args.paths)) and args.format == "text" else out
    _print_report(outcomes, args, report_stream)
    if errors:
        return 2
    if args.check or args.diff:
        return 1 if any(o.changed for o in outcomes) else 0
    return 1 if any(o.findings for o in outcomes) else 0
