"""Running a case's smoke command in a built image, shared by the build tests."""
from __future__ import annotations

import shlex


def has_shell(client, image: str) -> bool:
    container = client.containers.create(image, entrypoint=["/bin/sh"], command=[])
    try:
        container.get_archive("/bin/sh")
        return True
    except Exception:
        return False
    finally:
        container.remove(force=True)


def run_smoke(client, image: str, command: str, timeout: int = 120, labels: dict | None = None) -> tuple[int, str, str]:
    """Run the smoke command in the image: via sh -c when it has a shell, else as argv."""
    if has_shell(client, image):
        entrypoint, cmd = ["/bin/sh", "-c"], [command]
    else:
        argv = shlex.split(command)
        entrypoint, cmd = argv[:1], argv[1:]
    container = client.containers.create(image, entrypoint=entrypoint, command=cmd, network_mode="none",
                                         labels=labels or {})
    try:
        container.start()
        status = container.wait(timeout=timeout)["StatusCode"]
        out = container.logs(stdout=True, stderr=False).decode("utf-8", "replace")
        err = container.logs(stdout=False, stderr=True).decode("utf-8", "replace")
    finally:
        container.remove(force=True)
    return status, out, err


def check_smoke(case: dict, status: int, out: str, err: str) -> None:
    assert status == 0, f"smoke exited {status}\nstdout:\n{out}\nstderr:\n{err}"
    if "expect_output" in case:
        assert out.strip() == case["expect_output"].strip(), f"stderr:\n{err}"
    else:
        assert case["expect_contains"] in out, f"stderr:\n{err}"
