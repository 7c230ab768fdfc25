r"""Inline suppressions, in dockopt's own syntax and in hadolint's.

* ``# dockopt: ignore=CODE[,CODE...]`` in the comment lines directly above an instruction
  silences those codes (or prefixes, such as ``DO1``) for findings on that instruction;
* ``# dockopt: ignore-file`` anywhere silences the whole file;
* ``# hadolint ignore=DL3059,DL3015`` above an instruction silences the dockopt rules that
  match those hadolint rules (``HADOLINT_EQUIVALENTS``), and ``# hadolint global
  ignore=...`` does so for the whole file, so that a repository that already suppresses in
  hadolint's syntax needs no second comment. hadolint codes without a dockopt counterpart
  (and ShellCheck's ``SC`` codes) are left to hadolint.

A finding located on a ``FROM`` line (a rule about the whole stage, such as DO302's "the final
image runs as root") may be suppressed above that ``FROM``, above any ``USER`` of the stage, or
above the stage's last instruction: where the cause, or the fix, would be.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from .findings import Edit, Finding, Fix, Safety
from .syntax import Dockerfile, Instruction, Line

SUPPRESS_LINE = re.compile(r"#\s*dockopt:\s*ignore\s*=\s*([A-Za-z0-9_, ]*)", re.I)
SUPPRESS_FILE = re.compile(r"#\s*dockopt:\s*ignore-file\b", re.I)
HADOLINT_LINE = re.compile(r"#\s*hadolint\s+ignore\s*=\s*([A-Za-z0-9_, ]*)", re.I)
HADOLINT_GLOBAL = re.compile(r"#\s*hadolint\s+global\s+ignore\s*=\s*([A-Za-z0-9_, ]*)", re.I)

# hadolint's rule -> the dockopt rule that reports the same problem (docs/rules.md prints it)
HADOLINT_EQUIVALENTS: Mapping[str, str] = {
    "DL3059": "DO101",  # multiple consecutive RUN instructions
    "DL3014": "DO103",  # apt-get install without -y
    "DL3009": "DO104",  # delete the apt lists after installing
    "DL3027": "DO105",  # apt instead of apt-get
    "DL3015": "DO106",  # --no-install-recommends
    "DL3019": "DO107",  # apk add --no-cache
    "DL3042": "DO108",  # pip install --no-cache-dir
    "DL3060": "DO109",  # yarn cache clean
    "DL3030": "DO110",  # yum install -y
    "DL3032": "DO110",  # yum clean all
    "DL3034": "DO110",  # zypper non-interactive switch
    "DL3036": "DO110",  # zypper clean
    "DL3038": "DO110",  # dnf install -y
    "DL3040": "DO110",  # dnf clean all
    "DL3020": "DO203",  # COPY instead of ADD
    "DL3002": "DO302",  # last USER should not be root
    "DL3067": "DO303",  # COPY --from of a whole filesystem
    "DL3064": "DO401",  # sensitive data in ARG or ENV
}


def hadolint_codes_for(code: str) -> list[str]:
    """The hadolint rules a dockopt rule answers for (their suppressions also silence it)."""
    return sorted(dl for dl, do in HADOLINT_EQUIVALENTS.items() if do == code)


@dataclass(frozen=True)
class Token:
    """One code of a `# dockopt: ignore=` comment, and where it is written."""

    code: str
    line: Line
    column: int      # 1-based, in the line
    comment: Comment


@dataclass
class Comment:
    """A `# dockopt: ignore=...` comment line and the codes in it."""

    line: Line
    tokens: list[Token] = field(default_factory=list)


@dataclass
class Suppressions:
    """Every suppression of one file, and the instructions they cover."""

    whole_file: bool = False
    file_codes: frozenset[str] = frozenset()        # from `# hadolint global ignore=`
    by_line: dict[int, list[Token]] = field(default_factory=dict)      # instruction line -> dockopt tokens
    hadolint_by_line: dict[int, frozenset[str]] = field(default_factory=dict)
    comments: list[Comment] = field(default_factory=list)
    # alternative anchors: FROM line -> lines of the stage's USER instructions and last instruction
    stage_anchors: dict[int, tuple[int, ...]] = field(default_factory=dict)
    empty: list[Line] = field(default_factory=list)  # `# dockopt: ignore=` lines that name no code

    def anchors(self, finding: Finding) -> tuple[int, ...]:
        return (finding.line, *self.stage_anchors.get(finding.line, ()))

    def matching_tokens(self, finding: Finding) -> list[Token]:
        """The dockopt tokens that silence this finding (empty: it is not suppressed by one)."""
        return [t for line in self.anchors(finding) for t in self.by_line.get(line, ())
                if finding.code.startswith(t.code)]

    def suppressed(self, finding: Finding) -> bool:
        if self.whole_file or finding.code in self.file_codes:
            return True
        if any(finding.code in self.hadolint_by_line.get(line, ()) for line in self.anchors(finding)):
            return True
        return bool(self.matching_tokens(finding))


def _codes(group: str) -> list[tuple[str, int]]:
    """(CODE, offset in group) of each comma-separated code."""
    out = []
    for m in re.finditer(r"[^,\s]+", group):
        out.append((m.group().upper(), m.start()))
    return out


def _comment_block(ins: Instruction) -> list[Line]:
    """The comment lines directly above an instruction (no blank line in between)."""
    block: list[Line] = []
    for line in reversed(ins.leading):
        if line.kind != "COMMENT":
            break
        block.append(line)
    block.reverse()
    return block


def _hadolint_equivalents(group: str) -> frozenset[str]:
    return frozenset(HADOLINT_EQUIVALENTS[c] for c, _ in _codes(group) if c in HADOLINT_EQUIVALENTS)


def file_suppressed(tree: Dockerfile) -> bool:
    return any(SUPPRESS_FILE.search(line.text) for line in tree.lines
               if line.kind in ("COMMENT", "CONT_COMMENT", "DIRECTIVE"))


def suppressed_codes(ins: Instruction) -> frozenset[str]:
    """Codes silenced on `ins` by the comments directly above it (dockopt's own, and the dockopt
    equivalents of hadolint's). A prefix such as DO1 is returned as written."""
    codes: set[str] = set()
    for line in _comment_block(ins):
        m = SUPPRESS_LINE.search(line.text)
        if m:
            codes.update(c for c, _ in _codes(m.group(1)))
        h = HADOLINT_LINE.search(line.text)
        if h:
            codes.update(_hadolint_equivalents(h.group(1)))
    return frozenset(codes)


def collect(tree: Dockerfile) -> Suppressions:
    """Every suppression comment of the file, tied to the instructions it covers."""
    lowered = tree.source.lower()
    if "dockopt" not in lowered and "hadolint" not in lowered:
        return Suppressions()  # most files: no comment to read
    sup = Suppressions(whole_file=file_suppressed(tree), file_codes=_hadolint_global_codes(tree))
    for ins in tree.instructions:
        _collect_instruction(sup, ins)
    for stage in tree.stages:
        others = [i.start_line for i in stage.instructions if i.keyword == "USER"]
        if stage.instructions:
            others.append(stage.instructions[-1].start_line)
        sup.stage_anchors[stage.from_.start_line] = tuple(dict.fromkeys(others))
    return sup


def _hadolint_global_codes(tree: Dockerfile) -> frozenset[str]:
    """Our codes for the rules a `# hadolint global ignore=` comment silences in the whole file."""
    file_codes: set[str] = set()
    for line in tree.lines:
        if line.kind == "COMMENT":
            g = HADOLINT_GLOBAL.search(line.text)
            if g:
                file_codes |= _hadolint_equivalents(g.group(1))
    return frozenset(file_codes)


def _collect_instruction(sup: Suppressions, ins: Instruction) -> None:
    """Add the suppression comments right above `ins` to `sup`."""
    hadolint: set[str] = set()
    for line in _comment_block(ins):
        m = SUPPRESS_LINE.search(line.text)
        if m:
            comment = Comment(line)
            base = m.start(1) + 1
            for code, offset in _codes(m.group(1)):
                token = Token(code, line, base + offset, comment)
                comment.tokens.append(token)
                sup.by_line.setdefault(ins.start_line, []).append(token)
            sup.comments.append(comment)
            if not comment.tokens:
                sup.empty.append(line)
        h = HADOLINT_LINE.search(line.text)
        if h and not HADOLINT_GLOBAL.search(line.text):
            hadolint |= _hadolint_equivalents(h.group(1))
    if hadolint:
        sup.hadolint_by_line[ins.start_line] = frozenset(hadolint)


def unknown_tokens(sup: Suppressions, is_known: Callable[[str], bool]) -> Iterator[Token]:
    for comment in sup.comments:
        for token in comment.tokens:
            if not is_known(token.code):
                yield token


# --------------------------------------------------------------------------- unused suppressions


class UnusedSuppression:
    """Report `# dockopt: ignore=` codes that silence nothing.

    ## What it does
    Finds codes in a `# dockopt: ignore=CODE` comment that no finding needs: the rule reports
    nothing on the instruction below the comment (also when the comment is removed), or the
    problem has been fixed since the comment was written.

    ## Why is this bad?
    A stale suppression hides the next real finding of that rule on the instruction, and tells
    readers there is a problem where there is none. ruff's RUF100 does the same for `# noqa`.

    Codes of rules that do not run (left out by `select`/`ignore`) are never reported: whether
    they are used cannot be told. hadolint's `# hadolint ignore=` comments are never reported
    either: they serve hadolint as well.

    ## Example
    ```dockerfile
    FROM debian:bookworm-slim
    # dockopt: ignore=DO106
    RUN echo "no apt-get here"
    USER nobody
    ```
    Use instead:
    ```dockerfile
    FROM debian:bookworm-slim
    RUN echo "no apt-get here"
    USER nobody
    ```

    ## Fix safety
    Safe: it only edits a comment. The unused codes are removed from the comment, and the
    comment line goes when no code is left in it.
    """

    code = "DO900"
    name = "unused-suppression"
    summary = "A `# dockopt: ignore=` comment silences nothing"
    severity = "warning"
    needs_context = False

    @classmethod
    def docs(cls) -> str:
        import inspect

        return inspect.cleandoc(cls.__doc__ or "").split("\n", 1)[1].strip()

    def check(self, ctx: object) -> Iterable[Finding]:  # the linter reports it, see unused_findings
        return ()


def unused_findings(tree: Dockerfile, unused: list[Token]) -> list[Finding]:
    """One DO900 finding per comment with unused codes, its fix removing them."""
    by_comment: dict[int, list[Token]] = {}
    for token in unused:
        by_comment.setdefault(id(token.comment), []).append(token)
    out = []
    for tokens in by_comment.values():
        comment = tokens[0].comment
        line = comment.line
        names = ", ".join(t.code for t in tokens)
        keep = [t for t in comment.tokens if t not in tokens]
        if keep:
            m = SUPPRESS_LINE.search(line.text)
            assert m is not None
            start, end = line.start + m.start(1), line.start + m.end(1)
            trailing = m.group(1)[len(m.group(1).rstrip()):]
            edit = Edit(start, end, ",".join(t.code for t in keep) + trailing)
            title = f"Remove {names} from the comment"
        else:
            edit = Edit(line.start, line.end, "")
            title = "Remove the comment"
        message = f"unused suppression: {names} (no {'such finding' if len(tokens) == 1 else 'such findings'} below)"
        out.append(Finding(UnusedSuppression.code, message, line.number, tokens[0].column, None,
                           Fix(title, Safety.SAFE, (edit,))))
    return out


def without_token(text: str, token: Token) -> str:
    """The file text with one code removed from its comment (the line count stays the same)."""
    line = token.line
    m = SUPPRESS_LINE.search(line.text)
    assert m is not None
    kept = [c for c, _ in _codes(m.group(1)) if c != token.code]
    new_line = line.text[:m.start(1)] + ",".join(kept) + line.text[m.end(1):] if kept else \
        line.text[:m.start()] + "#" + line.text[m.end():]
    return text[:line.start] + new_line + text[line.end:]

