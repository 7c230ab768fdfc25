"""Is a Dockerfile ``SHELL`` one whose commands this POSIX shell model can read?"""
from __future__ import annotations

import ntpath
import posixpath
from dataclasses import dataclass

__all__ = ["ShellKind", "classify_shell", "is_posix_shell"]

# shells that read POSIX sh syntax (bash and zsh extend it; the model parses bash)
_POSIX = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "ksh93", "pdksh", "yash",
                    "posh", "lksh", "oksh", "hush", "rbash"})
_NOT_POSIX = {
    "powershell": "PowerShell", "pwsh": "PowerShell", "cmd": "cmd.exe", "fish": "fish",
    "csh": "C shell", "tcsh": "C shell", "nu": "nushell", "elvish": "elvish", "xonsh": "xonsh",
    "rc": "rc",
}
_WRAPPERS = frozenset({"env", "busybox", "toybox"})


@dataclass(frozen=True, slots=True)
class ShellKind:
    name: str | None      # 'bash', 'powershell', ... (basename without .exe); None for an empty SHELL
    posix: bool
    reason: str           # why it is or is not POSIX, for a pass to report when it skips


def classify_shell(shell_argv: list[str] | tuple[str, ...]) -> ShellKind:
    """Classify the argv of a Dockerfile ``SHELL`` instruction (``["/bin/bash", "-o", "pipefail", "-c"]``)."""
    words = list(shell_argv)
    while words and _program(words[0]) in _WRAPPERS:
        # /usr/bin/env bash -c, busybox sh -c: the shell is the next word
        words = words[1:]
        while words and words[0].startswith("-"):
            words = words[1:]
    if not words:
        return ShellKind(None, False, "SHELL names no program")
    name = _program(words[0])
    if name in _POSIX:
        return ShellKind(name, True, f"{name} is a POSIX-compatible shell")
    if name in _NOT_POSIX:
        return ShellKind(name, False, f"{name} is {_NOT_POSIX[name]}, not a POSIX shell")
    return ShellKind(name, False, f"{name} is not a known POSIX shell")


def is_posix_shell(shell_argv: list[str] | tuple[str, ...]) -> bool:
    """True for sh, bash, dash, ash, zsh, ksh ... (any path, any options); False for PowerShell, cmd, fish..."""
    return classify_shell(shell_argv).posix


def _program(word: str) -> str:
    # Windows images write C:\Windows\System32\cmd.exe, PowerShell.exe: case does not matter there
    base = (ntpath.basename(word) if "\\" in word else posixpath.basename(word)).lower()
    return base.removesuffix(".exe")
