"""A private second dockerd for tests that stop or fill an engine, or need a second one.

The main engine (DOCKER_HOST) is shared by every other test, so the fault
tests never touch it: `PrivateEngine` starts a dockerd of its own, from the
same Debian root the main engine runs from (scripts/docker-up.sh; a dockerd
on PATH when there is no such root), in a network namespace of its own (its
bridge and firewall rules stay there), with its own socket, data root, exec
root (where its managed containerd keeps its state) and pid file.  Its
directory is bound into the root at the same path, so the socket and the
data root read the same inside and outside.  It loads the busybox stand-in
(and any other `images`) from the main engine, and can be stopped (SIGTERM,
then SIGKILL) and started again.  With `disk_mb` its data root is a
loop-mounted ext4 image of that size, so builds can fill it.  `close()` kills
the daemon, its containerd and the containerd shims of its containers (found
by their exec root argument, never by name), unmounts and removes everything.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import docker

BASE = "busybox:latest"
ENGINE_ROOT = Path(os.environ.get("DOCKOPT_ENGINE_ROOT", "/var/lib/dockopt-engine/root"))


def dockerd_argv() -> list[str] | None:
    """How to start a dockerd here: from the engine root when there is one, else from PATH."""
    if (ENGINE_ROOT / "usr/sbin/dockerd").exists():
        return ["chroot", str(ENGINE_ROOT), "/usr/sbin/dockerd"]
    found = shutil.which("dockerd")
    return [found] if found else None


def _pids_matching(needle: str) -> list[int]:
    """Pids of processes whose command line contains `needle` (an exact path of ours)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if needle in args and int(entry.name) != os.getpid():
            out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _kill(pids: list[int], grace: float) -> None:
    """SIGTERM, wait up to `grace` seconds, then SIGKILL what is left."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        end = time.monotonic() + wait
        while time.monotonic() < end and any(_alive(p) for p in pids):
            time.sleep(0.1)
        pids = [p for p in pids if _alive(p)]
        if not pids:
            return


class PrivateEngine:
    def __init__(self, *, disk_mb: int | None = None, main: docker.DockerClient | None = None,
                 images: tuple[str, ...] = (BASE,)):
        self.root = Path(tempfile.mkdtemp(prefix="dpe-", dir="/tmp"))   # short: unix socket paths are limited
        self.data = self.root / "data"
        self.exec_root = self.root / "exec"
        self.sock = self.root / "docker.sock"
        self.pidfile = self.root / "docker.pid"
        self.log = self.root / "dockerd.log"
        self.host = f"unix://{self.sock}"
        self.disk_mb = disk_mb
        self.daemon = dockerd_argv()
        chrooted = self.daemon is not None and self.daemon[0] == "chroot"
        self.inner = ENGINE_ROOT / self.root.relative_to("/") if chrooted else None
        self.proc: subprocess.Popen | None = None
        self.client: docker.DockerClient | None = None
        try:
            if self.daemon is None:
                raise RuntimeError("no dockerd: run scripts/docker-up.sh")
            self.data.mkdir()
            self.exec_root.mkdir()
            if disk_mb:
                self._mount_disk(disk_mb)
            if self.inner is not None:
                self.inner.mkdir(parents=True)
                subprocess.run(["mount", "--rbind", str(self.root), str(self.inner)], check=True,
                               capture_output=True)
            self.start()
            self._load(main or docker.from_env(timeout=60), images)
        except BaseException:
            self.close()
            raise

    def _mount_disk(self, mb: int) -> None:
        img = self.root / "disk.img"
        subprocess.run(["truncate", "-s", f"{mb}M", str(img)], check=True)
        subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(img)], check=True, capture_output=True)
        subprocess.run(["mount", "-o", "loop", str(img), str(self.data)], check=True, capture_output=True)

    def start(self, timeout: float = 30.0) -> None:
        # Its own network namespace: the docker0 bridge it makes stays there (BuildKit's RUN
        # steps use it), and so would any firewall rule.
        argv = ["unshare", "--net", "--", *(self.daemon or []), "-H", self.host, "--data-root", str(self.data),
                "--exec-root", str(self.exec_root), "--pidfile", str(self.pidfile),
                "--iptables=false", "--ip6tables=false", "--ip-masq=false",
                "--userland-proxy=false", "--storage-driver=overlay2"]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         start_new_session=True)
        # a fixed API version: "auto" would ask the daemon before it listens
        self.client = docker.DockerClient(base_url=self.host, timeout=60, version="1.41")
        end = time.monotonic() + timeout
        while True:
            try:
                self.client.ping()
                return
            except Exception:
                if self.proc.poll() is not None or time.monotonic() > end:
                    raise RuntimeError(f"private dockerd did not start:\n{self.log_tail()}") from None
                time.sleep(0.2)

    def _load(self, main: docker.DockerClient, images: tuple[str, ...]) -> None:
        assert self.client is not None
        for image in images:
            self.client.api.load_image(b"".join(main.api.get_image(image)))
            self.client.images.get(image)

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace: float = 3.0) -> None:
        """SIGTERM the daemon; SIGKILL it when it is not gone after `grace` seconds."""
        if self.proc is None:
            return
        _kill([self.proc.pid], grace)
        self.proc.wait()
        self.proc = None
        # Its containerd follows it (parent-death signal) a moment later; a
        # restart while it is still dying would try to reuse it and time out.
        # (It may linger as a zombie, which still "runs" for dockerd's check:
        # hence the pid file goes too.)
        pidfile = self.exec_root / "containerd" / "containerd.pid"
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        _kill([pid], 3.0)
        pidfile.unlink(missing_ok=True)

    def ensure_running(self) -> None:
        if not self.running:
            self.stop()
            self.start()

    def labelled(self, label: str) -> list[str]:
        """Every image and container carrying `label` (a key or key=value)."""
        c = self.client.api
        return ([f"image {i}" for i in c.images(all=True, quiet=True, filters={"label": label})]
                + [f"container {x['Id']}" for x in c.containers(all=True, filters={"label": label})])

    def build_cache(self) -> list[str]:
        """The descriptions of every BuildKit cache record this engine holds."""
        return [r.get("Description") or r["ID"] for r in self.client.df().get("BuildCache") or []]

    def close(self) -> None:
        try:
            if self.client is not None:
                self.client.close()
            self.stop(grace=5.0)
        finally:
            # its containerd, and the shims of its containers (which outlive a killed daemon)
            _kill(_pids_matching(str(self.exec_root)), 3.0)
            # overlay mounts of containers the daemon had no time to unmount,
            # the data root's own bind mount, and the loop-mounted disk
            for _ in range(3):
                mounts = self._mounts_below()
                if not mounts:
                    break
                for mnt in sorted(mounts, key=len, reverse=True):
                    subprocess.run(["umount", "-l", mnt], capture_output=True, check=False)
            if self.inner is not None and not self._mounts_below():
                with contextlib.suppress(OSError):
                    self.inner.rmdir()
            shutil.rmtree(self.root, ignore_errors=True)

    def _mounts_below(self) -> list[str]:
        try:
            lines = Path("/proc/self/mounts").read_text().splitlines()
        except OSError:
            return []
        tops = [str(self.root)] + ([str(self.inner)] if self.inner is not None else [])
        mounts = [ln.split()[1] for ln in lines if len(ln.split()) > 1]
        return [m for m in mounts if any(m == top or m.startswith(top + "/") for top in tops)]
