"""Reading a command's options the way getopt-style programs do.

``-qy`` is ``-q -y`` where the program clusters short options; an option that
takes a value takes the rest of its word (``-rreqs.txt``, ``--opt=x``) or the
next word (``-o Dpkg::Options::=--force-confold``).  Knowing which options
take a value is what keeps ``-o X`` from making ``X`` look like a package.
"""
from __future__ import annotations

from dataclasses import dataclass

from .model import Word

__all__ = ["SPECS", "Flag", "OptionSpec", "ParsedArguments", "parse_arguments"]


@dataclass(frozen=True, slots=True)
class Flag:
    """One option as the program sees it (``-qy`` gives two flags sharing one word)."""

    name: str                  # '-y', '--no-cache-dir', '-o'
    value: str | None          # the option's argument, if it takes one and it is static
    word: Word                 # the word the option is written in
    value_word: Word | None    # the word holding the argument (``word`` itself when attached)

    @property
    def start(self) -> int:
        return self.word.start

    @property
    def end(self) -> int:
        """End of the option including a separate argument word."""
        return (self.value_word or self.word).end


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """How a program reads its options."""

    with_value: frozenset[str] = frozenset()   # options that take an argument
    clustering: bool = True                    # -qy means -q -y (getopt); False: -ldflags is one option
    attached: tuple[str, ...] = ()             # prefixes whose value is glued on: mvn -DskipTests, -Pprod


@dataclass(frozen=True, slots=True)
class ParsedArguments:
    flags: tuple[Flag, ...]
    operands: tuple[Word, ...]
    stopped_at: int | None     # index of the first operand when parsing stopped there


def parse_arguments(words: tuple[Word, ...] | list[Word], spec: OptionSpec,
                    stop_at_operand: bool = False) -> ParsedArguments:
    """Split words into options and operands.

    With ``stop_at_operand`` parsing stops at the first operand (a subcommand
    such as ``install``) and ``stopped_at`` gives its index in ``words``.
    A word whose value is not static (``$FLAGS``) counts as an operand.
    """
    flags: list[Flag] = []
    operands: list[Word] = []
    index = 0
    count = len(words)
    options_done = False
    while index < count:
        word = words[index]
        text = word.text
        index += 1
        if options_done or text is None or text == "-" or not text.startswith("-"):
            if stop_at_operand:
                return ParsedArguments(tuple(flags), tuple(operands), index - 1)
            operands.append(word)
        elif text == "--":
            options_done = True
        elif text.startswith("--") or not spec.clustering:
            index = _long_option(words, index, text, word, spec, flags)
        elif len(text) > 2 and text[2] == "=":      # -q=2
            flags.append(Flag(text[:2], text[3:], word, word))
        else:
            index = _short_options(words, index, text, word, spec, flags)
    return ParsedArguments(tuple(flags), tuple(operands), None)


def _long_option(words: tuple[Word, ...] | list[Word], index: int, text: str, word: Word, spec: OptionSpec,
                 flags: list[Flag]) -> int:
    """`--name=value`, `--name value`, `-name` (no clustering) or an attached prefix (`-DskipTests`);
    the index of the next word."""
    name, equals, value = text.partition("=")
    if equals:
        flags.append(Flag(name, value, word, word))
        return index
    prefix = next((p for p in spec.attached if text.startswith(p) and len(text) > len(p)), None)
    if prefix is not None and text not in spec.with_value:
        flags.append(Flag(prefix, text[len(prefix):], word, word))
        return index
    if name in spec.with_value and index < len(words):
        value_word = words[index]
        flags.append(Flag(name, value_word.text, word, value_word))
        return index + 1
    flags.append(Flag(name, None, word, None))
    return index


def _short_options(words: tuple[Word, ...] | list[Word], index: int, text: str, word: Word, spec: OptionSpec,
                   flags: list[Flag]) -> int:
    """A cluster of short options: -qy, -rfile, -o Value; the index of the next word."""
    letters = text[1:]
    for position, letter in enumerate(letters):
        name = "-" + letter
        if name not in spec.with_value:
            flags.append(Flag(name, None, word, None))
            continue
        rest = letters[position + 1:]
        if rest:
            flags.append(Flag(name, rest.removeprefix("="), word, word))
        elif index < len(words):
            flags.append(Flag(name, words[index].text, word, words[index]))
            index += 1
        else:
            flags.append(Flag(name, None, word, None))
        break
    return index


def _spec(*with_value: str, clustering: bool = True, attached: tuple[str, ...] = ()) -> OptionSpec:
    return OptionSpec(frozenset(with_value), clustering, attached)


# How the programs whose files dockopt follows read their options (the options that take a value).
SPECS: dict[str, OptionSpec] = {
    "rm": _spec(),
    "chown": _spec("--from", "--reference"),
    "chmod": _spec("--reference"),
    "mkdir": _spec("-m", "--mode", "--context"),
    "touch": _spec("-d", "--date", "-r", "--reference", "-t", "--time"),
    "cp": _spec("-t", "--target-directory", "-S", "--suffix", "-m", "--mode", "-o", "--owner", "-g",
                "--group", "--backup", "--preserve", "--reflink", "--sparse", "--no-preserve"),
    "curl": _spec(*(f"-{c}" for c in "oHdeuxAEXwTFbcKmrYyzUCQDPt"),
                  "--output", "--output-dir", "--header", "--data", "--user", "--proxy", "--user-agent",
                  "--request", "--write-out", "--form", "--cookie", "--retry", "--max-time",
                  "--connect-timeout", "--cacert", "--cert", "--key", "--data-raw", "--data-binary",
                  "--retry-delay", "--referer", "--range", "--config", "--proto", "--proto-redir",
                  "--resolve", "--interface", "--limit-rate", "--dns-servers", "--url"),
    "wget": _spec(*(f"-{c}" for c in "OPoaeiUTtwQlAR"), "--output-document", "--directory-prefix"),
    "git clone": _spec("-b", "--branch", "--depth", "-o", "--origin", "-c", "--config", "--reference",
                       "--separate-git-dir", "-j", "--jobs", "--filter", "--template", "-u",
                       "--upload-pack", "--shallow-since", "--shallow-exclude", "--server-option"),
    "tar": _spec("-f", "--file", "-C", "--directory", "-T", "--files-from", "-X", "--exclude-from",
                 "-b", "--blocking-factor", "-H", "--format", "-I", "--use-compress-program",
                 "--owner", "--group", "--mode", "--transform", "--strip-components"),
    "unzip": _spec("-d", "-P"),
    "cargo": _spec("--profile", "--bin", "--target", "--target-dir", "--manifest-path", "-p", "--package", "-j",
                   "--jobs", "--features", "-F", "--example", "--root", "--path", "--config", "-Z", "--color",
                   "--message-format", "--exclude", "--version", "--git", "--branch", "--tag", "--rev", "--index",
                   "--registry"),
    "make": _spec("-C", "--directory", "-f", "--file", "--makefile", "-j", "--jobs", "-l", "-o", "-W", "-I",
                  "--include-dir"),
    "cc": _spec("-o", "-I", "-L", "-l", "-D", "-U", "-x", "-include", "-isystem", "-MF", "-MT", "-std",
                clustering=False, attached=("-o", "-I", "-L", "-l", "-D", "-U")),
}
SPECS["chgrp"] = SPECS["chown"]
SPECS["mv"] = SPECS["install"] = SPECS["ln"] = SPECS["cp"]
