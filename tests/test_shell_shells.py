"""is_posix_shell / classify_shell for Dockerfile SHELL instructions."""
from __future__ import annotations

import pytest

from dockopt.shell import classify_shell, is_posix_shell


@pytest.mark.parametrize("argv", [
    ["/bin/sh", "-c"],
    ["sh", "-c"],
    ["/bin/bash", "-c"],
    ["/bin/bash", "-o", "pipefail", "-c"],
    ["bash", "-euxo", "pipefail", "-c"],
    ["/bin/dash", "-c"],
    ["/bin/ash", "-eo", "pipefail", "-c"],
    ["/bin/zsh", "-c"],
    ["/usr/bin/env", "bash", "-c"],
    ["/bin/busybox", "sh", "-c"],
    ["ksh", "-c"],
])
def test_posix_shells(argv):
    assert is_posix_shell(argv)
    assert classify_shell(argv).posix


@pytest.mark.parametrize(("argv", "name"), [
    (["powershell", "-Command", "$ErrorActionPreference = 'Stop';"], "powershell"),
    (["pwsh", "-NoLogo", "-Command"], "pwsh"),
    (["cmd", "/S", "/C"], "cmd"),
    (["C:\\Windows\\System32\\cmd.exe", "/S", "/C"], "cmd"),
    (["C:\\Program Files\\PowerShell\\7\\pwsh.exe", "-Command"], "pwsh"),
    (["PowerShell.exe", "-Command"], "powershell"),
    (["/usr/bin/fish", "-c"], "fish"),
    (["/bin/tcsh", "-c"], "tcsh"),
    (["python3", "-c"], "python3"),
])
def test_non_posix_shells_have_a_reason(argv, name):
    kind = classify_shell(argv)
    assert not kind.posix and not is_posix_shell(argv)
    assert kind.name == name
    assert name in kind.reason


def test_empty_shell():
    assert not is_posix_shell([])
    assert classify_shell(()).name is None
