"""scripts/docker-up.sh, the script CI and the README use to get an engine, run in pieces.

The script is sourced (which defines its functions and starts nothing) with a stand-in `ip` on
PATH, so these tests need no root, no bridge and no engine.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "docker-up.sh"

# A stand-in for iproute2's `ip` that writes its address listing in two writes, the way the real
# one writes a line per address: the second write comes after the line a search looks for.
FAKE_IP = r"""#!/usr/bin/env bash
printf '%s\n' "$*" >>"$IP_LOG"
case "$*" in
  "link show "*) exit 0 ;;
  "-o addr show dev "*)
    printf '5: %s    inet 172.31.240.1/24 scope global %s\n' "$4" "$4"
    sleep 0.2
    printf '5: %s    inet6 fe80::1/64 scope link\n' "$4"
    ;;
  "addr add "*) echo "Error: ipv4: Address already assigned." >&2; exit 2 ;;
  *) exit 0 ;;
esac
"""


def _run_sourced(tmp_path: Path, body: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    ip = bin_dir / "ip"
    ip.write_text(FAKE_IP)
    ip.chmod(ip.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "ip.log"
    log.touch()
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", IP_LOG=str(log))
    env.pop("DOCKER_HOST", None)
    script = f'set -euo pipefail\nsource "{SCRIPT}"\nSUDO=()\n{body}\n'
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False)
    return done, log.read_text().splitlines()


def test_sourcing_the_script_starts_nothing(tmp_path: Path) -> None:
    done, calls = _run_sourced(tmp_path, "echo sourced")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "sourced\n"
    assert calls == []


def test_a_bridge_that_has_its_address_is_used_as_it_is(tmp_path: Path) -> None:
    # CI failed once with "cannot give dockopt0 the address": the bridge already had it, but
    # `ip ... | grep -q` under pipefail took ip's SIGPIPE for "not there"
    done, calls = _run_sourced(tmp_path, "ensure_bridge; echo bridge ready")
    assert done.returncode == 0, done.stderr
    assert "bridge ready" in done.stdout
    assert not [c for c in calls if c.startswith("addr add")], calls
    assert "link set dockopt0 up" in calls


def test_a_bridge_without_its_address_gets_it(tmp_path: Path) -> None:
    done, calls = _run_sourced(tmp_path, "BRIDGE_CIDR=10.9.8.1/24; ensure_bridge || true; echo after")
    assert "addr add 10.9.8.1/24 dev dockopt0" in calls
    assert "cannot give dockopt0 the address 10.9.8.1/24" in done.stderr
