"""Lossless Dockerfile syntax: BuildKit's reading rules, the line lexer, the LALR grammar and
the immutable tree."""
from .errors import ParseError
from .nodes import Directive, Dockerfile, Flag, Heredoc, Instruction, Line, Stage
from .parser import parse

__all__ = ["Directive", "Dockerfile", "Flag", "Heredoc", "Instruction", "Line", "ParseError", "Stage", "parse"]
