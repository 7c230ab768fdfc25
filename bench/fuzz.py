"""Long fuzzing run: byte-level mutations of real Dockerfiles through the parser, the fixer and
the CLI.

    python -m bench.fuzz [--inputs 100000] [--jobs N] [--seed S] [--corpus DIR]

Each input is a corpus file (the shared real-world corpus, else the project's corpus/) with a few
random mutations: inserted or deleted escape characters, heredoc markers, quotes, CR, NUL, bytes
that are not UTF-8, deep continuations, duplicated or truncated lines. For each input:

  * reading it either succeeds or fails with dockopt's FileError/ParseError, nothing else;
  * an accepted input round-trips byte for byte;
  * the fix loop (safe, and with unsafe fixes) either refuses with FixerError or gives text that
    parses, that BuildKit's parser accepts (when the `dockerfile` package is installed), and that
    a second fix leaves unchanged;
  * the CLI (`dockopt --diff -`, in process) exits 0, 1 or 2 and never prints a traceback.

A failing input is written to tests/fixtures/fuzz/ (named by its hash) with the property it broke;
tests/test_fuzz_regressions.py replays every file there.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import random
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "fuzz"
SHARED = REPO.parent / "shared" / "corpus" / "realworld"

ATOMS = [b"\\", b"`", b"\\\n", b"`\n", b"<<EOF", b"<<-EOF", b"<<'EOF'", b"EOF\n", b"\"", b"'", b"\r", b"\r\n",
         b"\x00", b"\xff", b"\xc3", b"\xe2\x82", b"#", b"# escape=`\n", b"# syntax=x\n", b"[", b"]", b"\n", b" \\",
         b"&&", b"||", b";", b"$(", b"${", b"--mount=type=cache,target=/x ", b"RUN ", b"\t", "\ufeff".encode()]


def seeds(corpus: Path | None) -> list[bytes]:
    roots = [corpus] if corpus else [SHARED, REPO / "corpus"]
    out: list[bytes] = []
    for root in roots:
        if root and root.exists():
            for p in sorted(root.rglob("*")):
                if p.is_file() and ("ockerfile" in p.name) and p.stat().st_size < 40_000:
                    out.append(p.read_bytes())
            if out:
                break
    if not out:
        out = [b"FROM debian\nRUN apt-get update\nRUN apt-get install -y curl\n"]
    return out


def mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.random()
        pos = rng.randint(0, len(buf))
        if op < 0.45:
            buf[pos:pos] = rng.choice(ATOMS)
        elif op < 0.7 and buf:
            del buf[pos:pos + rng.randint(1, 4)]
        elif op < 0.8:
            buf[pos:pos] = b"RUN x \\\n" * rng.randint(1, 200)   # deep continuation
        elif op < 0.9 and buf:
            start = data.rfind(b"\n", 0, min(pos, len(data))) + 1
            end = data.find(b"\n", start)
            line = data[start:end + 1 if end >= 0 else len(data)]
            buf[pos:pos] = line * rng.randint(1, 3)
        else:
            buf = buf[:pos]
    return bytes(buf)


def check_one(raw: bytes) -> str | None:
    """None when every property holds, else the name of the broken property."""
    return _check_library(raw) or _check_cli(raw)


def _check_library(raw: bytes) -> str | None:
    """Decoding, parsing, the round trip and fixing `raw` as a library does."""
    from dockopt.files import FileError, decode
    from dockopt.syntax import ParseError, parse

    try:
        text = decode(raw, "<fuzz>")
    except FileError:
        return None
    except Exception as exc:
        return f"decode raised {type(exc).__name__}"
    try:
        tree = parse(text)
    except ParseError:
        return None
    except Exception as exc:
        return f"parse raised {type(exc).__name__}: {exc}"
    if tree.to_source() != text:
        return "round trip"
    return _check_fixes(text)


def _check_fixes(text: str) -> str | None:
    """The safe and the unsafe fixes of `text`: they run, and their output parses,
    BuildKit's parser accepts it and fixing it again changes nothing."""
    from dockopt.fixer import FixerError, fix_text
    from dockopt.lint import Linter
    from dockopt.syntax import ParseError, parse

    for unsafe in (False, True):
        linter = Linter()
        try:
            res = fix_text(text, linter, unsafe=unsafe)
        except FixerError:
            continue
        except Exception as exc:
            return f"fix raised {type(exc).__name__}: {exc}"
        if not res.changed:
            continue
        try:
            parse(res.text)
        except ParseError:
            return "fix output does not parse"
        if _buildkit_rejects(res.text):
            return "BuildKit rejects the fix output"
        if fix_text(res.text, linter, unsafe=unsafe).text != res.text:
            return "fix not idempotent"
    return None


def _check_cli(raw: bytes) -> str | None:
    """`dockopt --diff -` on `raw`: a known exit status and no traceback."""
    from dockopt.cli import main

    out, err = io.StringIO(), io.StringIO()
    stdin = _Stdin(raw)
    saved = sys.stdin
    try:
        sys.stdin = stdin
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--diff", "-"])
    except SystemExit as exc:
        code = exc.code
    except Exception as exc:
        return f"CLI raised {type(exc).__name__}: {exc}"
    finally:
        sys.stdin = saved
    if code not in (0, 1, 2):
        return f"CLI exit status {code}"
    if "Traceback" in err.getvalue():
        return "CLI printed a traceback"
    return None


class _Stdin:
    def __init__(self, raw: bytes):
        self.buffer = io.BytesIO(raw)


def _buildkit_rejects(text: str) -> bool:
    try:
        import dockerfile
    except ImportError:
        return False
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        # bytes that are not UTF-8 (kept by dockopt as lone surrogates): hand BuildKit the bytes,
        # which it reads as they are; parse_string would crash on such a str
        data = None
    try:
        if data is not None:
            dockerfile.parse_string(text)
        else:
            with tempfile.NamedTemporaryFile(suffix=".Dockerfile") as fh:
                fh.write(text.encode("utf-8", "surrogateescape"))
                fh.flush()
                dockerfile.parse_file(fh.name)
    except UnicodeDecodeError:
        return False  # parsed; only the binding cannot hand the non-UTF-8 text back to Python
    except Exception:
        return True
    return False


def work(args: tuple[int, int, list[bytes]]) -> tuple[int, list[tuple[str, bytes]]]:
    seed, count, pool = args
    rng = random.Random(seed)
    failures = []
    for _ in range(count):
        raw = mutate(rng.choice(pool), rng)
        broken = check_one(raw)
        if broken:
            failures.append((broken, raw))
    return count, failures


def save(broken: str, raw: bytes) -> Path:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(raw).hexdigest()[:16]
    (FIXTURES / f"{name}.Dockerfile").write_bytes(raw)
    (FIXTURES / f"{name}.why").write_text(broken + "\n", encoding="utf-8")
    return FIXTURES / f"{name}.Dockerfile"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.fuzz")
    ap.add_argument("--inputs", type=int, default=100_000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corpus", type=Path)
    args = ap.parse_args(argv)
    pool = seeds(args.corpus)
    batch = 250
    batches = [(args.seed * 1_000_003 + i, min(batch, args.inputs - i * batch), pool)
               for i in range((args.inputs + batch - 1) // batch)]
    t0 = time.perf_counter()
    done = 0
    failures: dict[str, int] = {}
    with ProcessPoolExecutor(max_workers=args.jobs) as ex:
        for count, fails in ex.map(work, batches):
            done += count
            for broken, raw in fails:
                failures[broken] = failures.get(broken, 0) + 1
                save(broken, raw)
            if done % 5000 < batch:
                print(f"  {done} inputs, {sum(failures.values())} failures, {time.perf_counter() - t0:.0f}s",
                      file=sys.stderr, flush=True)
    secs = time.perf_counter() - t0
    print(f"fuzz: {done} inputs from {len(pool)} seed files in {secs:.0f}s on {args.jobs} processes; "
          f"{sum(failures.values())} failures")
    for broken, n in sorted(failures.items(), key=lambda kv: -kv[1]):
        print(f"  {n:6}  {broken}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
