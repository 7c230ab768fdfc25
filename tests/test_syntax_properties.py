"""Property tests: generated and mutated Dockerfiles either raise ParseError or round-trip."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import dockopt_view, oracle_view

import dockopt
from dockopt import ParseError

KEYWORDS = ["FROM", "RUN", "CMD", "COPY", "ADD", "ENV", "ARG", "LABEL", "WORKDIR", "USER", "EXPOSE",
            "ENTRYPOINT", "VOLUME", "SHELL", "HEALTHCHECK", "ONBUILD", "STOPSIGNAL", "MAINTAINER", "run", "From"]
ATOMS = ["a", "b=c", '"q r"', "'s'", "--mount=type=cache,target=/c", "--from=x", "--link", "\\", "`", "<<EOF",
         "<<-EOT", "<<'Q'", "[\"x\", \"y\"]", "[1]", "[", "]", "&&", "||", ";", "$A", "${B:-c}", "#", " ", "\t",
         "=", "é", "\r", "\\\\", "= =", "\"", "'"]
NEWLINES = ["\n", "\r\n", "\n\n", "\\\n", "\\ \n", "`\n", "\n# c\n", "\n  \n"]

line = st.tuples(st.sampled_from(KEYWORDS), st.lists(st.sampled_from(ATOMS), max_size=6)).map(
    lambda t: t[0] + " " + " ".join(t[1]))
body_line = st.sampled_from(["EOF", "EOT", "Q", "\tEOT", "echo hi", "", "x y"])
dockerfile_text = st.tuples(
    st.sampled_from(["", "# syntax=docker/dockerfile:1\n", "# escape=`\n", "\ufeff", "# check=skip=all\n"]),
    st.lists(st.tuples(st.one_of(line, body_line), st.sampled_from(NEWLINES)), min_size=1, max_size=12),
).map(lambda t: t[0] + "".join(a + b for a, b in t[1]))


def _parse_or_error(text: str):
    try:
        return dockopt.parse(text)
    except ParseError:
        return None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dockerfile_text)
def test_generated_files_round_trip_or_raise_parse_error(text):
    tree = _parse_or_error(text)
    if tree is not None:
        assert tree.to_source() == text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dockerfile_text)
def test_generated_files_are_read_as_buildkit_reads_them(text):
    if "\x00" in text:
        return
    tree = _parse_or_error(text)
    try:
        oracle = oracle_view(text)
    except Exception:
        oracle = None
    if tree is None:
        assert oracle is None, "dockopt rejected what BuildKit accepts"
        return
    if "check=" in text and "escape" in text:
        return  # the oracle's BuildKit predates the `check` directive
    assert oracle is not None, "dockopt accepted what BuildKit rejects"
    if any(ins.parsed.sub is not None and ins.parsed.sub.keyword.upper() == "ONBUILD" for ins in tree.instructions
           if ins.keyword == "ONBUILD"):
        return  # `ONBUILD ONBUILD` never builds (dockopt and BuildKit refuse it); the oracle's parser
        #         reads the inner one's arguments as [''], a detail nothing depends on
    assert dockopt_view(tree) == oracle


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_arbitrary_text_never_raises_anything_but_parse_error(text):
    tree = _parse_or_error(text)
    if tree is not None:
        assert tree.to_source() == text


SEED = ("FROM debian\n# note\nRUN apt-get update && \\\n    apt-get install -y curl\n"
        "COPY <<EOF /x\nhello\nEOF\nCMD [\"sh\"]\n")
MUTATIONS = ["\\", "`", "\n", "\r", "<<", "EOF", '"', "'", "[", "#", " ", "\x00", "\\\n", "\ufeff"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(SEED)), st.sampled_from(MUTATIONS), st.booleans()), max_size=6))
def test_mutated_files_round_trip_or_raise_parse_error(edits):
    text = SEED
    for pos, atom, delete in edits:
        pos = min(pos, len(text))
        text = text[:pos] + text[pos + 1:] if delete else text[:pos] + atom + text[pos:]
    tree = _parse_or_error(text)
    if tree is not None:
        assert tree.to_source() == text
