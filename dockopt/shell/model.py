"""What the shell model is made of: words, redirections, simple commands and chain links.

Every offset is a ``str`` index into :attr:`Script.text` (not a byte offset), so
``script.text[x.start:x.end]`` gives back the source of ``x``.
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any


class Scope(enum.Enum):
    """A construct that encloses a command; :attr:`SimpleCommand.scopes` lists them outermost first."""

    SUBSHELL = "subshell"                    # ( ... )
    BRACE_GROUP = "brace_group"              # { ...; }
    CONDITION = "condition"                  # the test part of if/elif/while/until
    IF = "if"                                # anywhere in an if statement (test or body)
    LOOP = "loop"                            # while/until/for/select body or loop header
    CASE = "case"                            # case ... esac
    FUNCTION = "function"                    # body of a function definition
    COMMAND_SUBSTITUTION = "command_substitution"  # $( ... ) or `...`
    PROCESS_SUBSTITUTION = "process_substitution"  # <( ... ) or >( ... )
    PIPELINE = "pipeline"                    # one element of a | b
    BACKGROUND = "background"                # an and-or list ended by &
    NEGATION = "negation"                    # ! cmd


# Scopes whose commands run in a child process: nothing they change reaches the
# commands that follow them.  Pipeline elements count because bash and dash run
# every element in a subshell (only zsh and bash's `lastpipe` keep the last one).
SUBSHELL_SCOPES = frozenset({
    Scope.SUBSHELL, Scope.COMMAND_SUBSTITUTION, Scope.PROCESS_SUBSTITUTION,
    Scope.PIPELINE, Scope.BACKGROUND,
})
CONDITIONAL_SCOPES = frozenset({Scope.CONDITION, Scope.IF, Scope.LOOP, Scope.CASE})


class Construct(enum.Enum):
    """What a top-level chain link is."""

    COMMAND = "command"        # a simple command, declaration (export ...), test ([ ... ]) or assignment
    PIPELINE = "pipeline"
    SUBSHELL = "subshell"
    BRACE_GROUP = "brace_group"
    ARITHMETIC = "arithmetic"  # (( expr ))
    IF = "if"
    LOOP = "loop"              # while, until, for, select, for ((...))
    CASE = "case"
    FUNCTION = "function"      # a function definition
    NEGATION = "negation"
    ERROR = "error"            # text tree-sitter could not parse


# List operators as they appear in `next_operator` / `ChainLink.operator`.
AND = "&&"
OR = "||"
SEMICOLON = ";"
NEWLINE = "\n"
BACKGROUND = "&"
PIPE = "|"
PIPE_STDERR = "|&"


@dataclass(frozen=True, slots=True)
class Word:
    """One shell word as written.

    ``text`` is the word after quote removal when its value does not depend on
    run time (no ``$VAR``, ``$(...)``, ``$((...))``), else ``None``.  Glob
    characters and a leading ``~`` are kept literally in ``text``: look at
    ``raw`` to tell ``*`` from ``'*'``.
    """

    raw: str
    text: str | None
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Assignment:
    """``NAME=value`` (prefix of a command, or a command of its own)."""

    name: str
    value: Word | None     # None for an empty value (``NAME=``)
    raw: str
    start: int
    end: int

    @property
    def value_text(self) -> str | None:
        """The static value, ``''`` for ``NAME=``, ``None`` when it depends on run time."""
        return "" if self.value is None else self.value.text


@dataclass(frozen=True, slots=True)
class Heredoc:
    """The body of a ``<<DELIM`` redirection."""

    delimiter: str
    quoted: bool          # <<'EOF' / <<"EOF" / <<\EOF: the body is taken literally
    strip_tabs: bool      # <<-EOF
    body_start: int       # first character of the body's first line
    body_end: int         # first character of the delimiter line
    end: int              # end of the delimiter line


@dataclass(frozen=True, slots=True)
class Redirect:
    """``[fd]op target``: ``2>/dev/null``, ``>>log``, ``2>&1``, ``<<EOF``, ``<<<word``."""

    operator: str          # '>', '>>', '<', '>&', '&>', '<<', '<<-', '<<<', ...
    fd: int | None
    target: Word | None    # None for a heredoc (see `heredoc`)
    heredoc: Heredoc | None
    start: int
    end: int               # end of the redirection word(s); for a heredoc, of `<<DELIM` (body: `heredoc`)


@dataclass(frozen=True, slots=True)
class SimpleCommand:
    """One simple command, with where it sits in the script.

    ``argv`` holds every word from the command word on, as written (``sudo``
    included).  ``name`` is the command that actually runs once the wrappers
    ``sudo``/``doas``/``env``/``command``/``builtin``/``nohup``/``nice``/``time``
    (and their options) are skipped; ``wrappers`` lists the skipped command words.
    """

    argv: tuple[Word, ...]
    assignments: tuple[Assignment, ...]
    redirects: tuple[Redirect, ...]
    name_index: int | None       # index into argv of the effective command word
    wrappers: tuple[Word, ...]
    start: int
    # `end` includes redirections and a heredoc body that directly follows the
    # command; for `cat <<EOF && next` (the body comes after `next`) it stops at
    # `<<EOF`, and the body is in `redirects[i].heredoc`
    end: int
    append_at: int               # where ` && more` continues it on its own line (before a heredoc body)
    scopes: tuple[Scope, ...]
    prev_operator: str | None    # operator that joins the previous command of its list to this one
    next_operator: str | None    # operator that joins it to the next command of its list
    link: int                    # index of the top-level chain link it belongs to
    # what `dockopt.shell.parse_tool` made of it, kept by parse_tool itself (None: not asked yet);
    # many rules ask about one command, and the answer depends on the command alone. Not a field
    # of __init__, so `dataclasses.replace` never carries it over to a changed command
    tool_memo: Any = field(default=None, init=False, compare=False, repr=False)

    @property
    def name_word(self) -> Word | None:
        return None if self.name_index is None else self.argv[self.name_index]

    @property
    def name(self) -> str | None:
        """The effective command word's value (``/usr/bin/pip3``), None if dynamic or absent."""
        word = self.name_word
        return None if word is None else word.text

    @property
    def program(self) -> str | None:
        """Basename of :attr:`name` (``pip3`` for ``/usr/bin/pip3``)."""
        word = self.name_word
        name = None if word is None else word.text
        return None if name is None else name[name.rfind("/") + 1:]  # posixpath.basename, inlined

    @property
    def args(self) -> tuple[Word, ...]:
        """The words after the effective command word."""
        return () if self.name_index is None else self.argv[self.name_index + 1:]

    @property
    def arg_texts(self) -> tuple[str | None, ...]:
        return tuple(w.text for w in self.args)

    @property
    def in_subshell(self) -> bool:
        return Scope.SUBSHELL in self.scopes

    @property
    def in_brace_group(self) -> bool:
        return Scope.BRACE_GROUP in self.scopes

    @property
    def in_function(self) -> bool:
        return Scope.FUNCTION in self.scopes

    @property
    def in_substitution(self) -> bool:
        return Scope.COMMAND_SUBSTITUTION in self.scopes or Scope.PROCESS_SUBSTITUTION in self.scopes

    @property
    def in_pipeline(self) -> bool:
        return Scope.PIPELINE in self.scopes

    @property
    def in_background(self) -> bool:
        return Scope.BACKGROUND in self.scopes

    @property
    def in_conditional(self) -> bool:
        """Inside if/while/until/for/case (the command may run zero or several times)."""
        return any(s in CONDITIONAL_SCOPES for s in self.scopes)

    @property
    def runs_in_subshell(self) -> bool:
        """Runs in a child shell, so its changes to shell state do not outlive it."""
        return any(s in SUBSHELL_SCOPES for s in self.scopes)

    @property
    def at_top_level(self) -> bool:
        """Not nested in any construct (it may still be joined by && or ||)."""
        return not self.scopes


@dataclass(frozen=True, slots=True)
class FunctionDefinition:
    name: str
    start: int
    end: int
    scopes: tuple[Scope, ...]


@dataclass(frozen=True, slots=True)
class ArithmeticCommand:
    """``(( expr ))``: no simple command, but it can assign variables (``((i++))``)."""

    start: int
    end: int
    assigns: bool                 # holds =, +=, ++, -- ...
    scopes: tuple[Scope, ...]


@dataclass(frozen=True, slots=True)
class ForLoop:
    """``for x in ...`` (or ``for ((i=0; ...))``): the loop variable stays set after the loop."""

    variable: str | None          # None for the arithmetic form
    assigns: bool                 # the loop sets a variable (always, except `for ((; ;))`)
    start: int
    end: int
    scopes: tuple[Scope, ...]     # of the loop itself (not LOOP)
    words: tuple[Word, ...] = ()  # the list after `in` (`for f in conf/*.conf`: a glob read at run time)


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One element of the script's top-level list.

    The top level is read as ``link op link op link ...`` where op is one of
    ``&&``, ``||``, ``;``, ``&`` or a newline; a pipeline is one link.
    ``operator`` is the operator after this link (``None`` for the last link
    unless the script ends with ``;`` or ``&``).
    """

    kind: Construct
    start: int
    end: int
    append_at: int                 # insert `` && more`` here to extend this link on its line
    operator: str | None
    commands: tuple[SimpleCommand, ...]   # every simple command inside, nested ones included


def fast_constructor(cls: type) -> Callable[..., Any]:
    """``make(*field_values)`` equal to ``cls(*field_values)`` for a frozen slots dataclass, ~3x faster.

    A frozen dataclass's ``__init__`` routes every field through the guarded
    ``object.__setattr__``, which made object construction the largest cost of
    modelling a corpus (~130k words and commands for 7600 RUNs).  This sets the
    slots directly; like dataclasses itself it generates the function from the
    field list, so it follows the class when fields change.
    """
    names = [f.name for f in fields(cls) if f.init]
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    lines = [f"def make({', '.join(names)}):", "    obj = _new(_cls)"]
    for name in names:
        namespace[f"_set_{name}"] = getattr(cls, name).__set__
        lines.append(f"    _set_{name}(obj, {name})")
    for f in fields(cls):
        if not f.init:  # set to its default, as __init__ does
            namespace[f"_set_{f.name}"] = getattr(cls, f.name).__set__
            namespace[f"_default_{f.name}"] = f.default
            lines.append(f"    _set_{f.name}(obj, _default_{f.name})")
    lines.append("    return obj")
    exec("\n".join(lines), namespace)
    make: Callable[..., Any] = namespace["make"]
    return make
