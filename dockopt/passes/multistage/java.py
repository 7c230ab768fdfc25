"""The split of a Java build: the jar the image runs into the JRE image of the same version."""
from __future__ import annotations

from ...ecosystems import java
from ...ecosystems.common import CannotTell
from ...facts import images
from ...facts.paths import join
from .detect import words
from .model import RunCommand
from .plan import (
    Plan,
    Site,
    build_user,
    check_entry,
    choose,
    entry_outputs,
    entry_programs,
    finish_native,
    package_programs,
    runtime_needs,
    trace,
    user_needs,
)

_GRADLE_TASKS = frozenset({"build", "assemble", "bootJar", "jar", "shadowJar", "installDist", "bootDistTar",
                           "distTar", "distZip"})


def _produce(rc: RunCommand) -> list[tuple[str, str]]:
    c = rc.command
    prog = c.program
    args = words(rc)
    if prog == "jar":
        return [(p, "jar") for p in java.jar_outputs(c, rc.cwd)]
    if prog in ("mvn", "mvnw") and any(a in ("package", "install", "verify") or (a or "").endswith(":repackage")
                                       for a in args):
        d = java.maven_output_dir(c, rc.cwd)
        return [(d, "jars")] if d else []
    if prog in ("gradle", "gradlew") and any(a in _GRADLE_TASKS for a in args):
        if rc.cwd is None:
            raise CannotTell("the directory gradle runs in is only known at build time")
        built = join(rc.cwd, "build/install" if "installDist" in args else "build/libs")
        return [(built, "dir" if "installDist" in args else "jars")] if built else []
    return []


def plan_java(site: Site) -> Plan:
    model = site.model
    traced = trace(site, _produce)
    chosen, cmds = entry_outputs(model, traced, "cannot tell which jar the build produces")
    for p, _g in chosen:
        if any(o.path == p and o.what == "jars" for o in traced.outputs):
            raise CannotTell(f"the CMD names no jar of {p}: cannot tell which one the image runs")
    paths = [p for p, _g in chosen]
    jre = images.jre_of(site.image)
    if jre is None:
        raise CannotTell(f"no JRE image is known for {model.base}")
    runtime = runtime_needs(site, traced.build_ids, entry_programs(cmds), paths)
    if runtime.manager == "apk" and "alpine" not in jre:
        raise CannotTell("packages installed with apk")
    image, _configured = choose(site.ctx, "java", jre)
    plan = Plan("java", image)
    check_entry(model, cmds, paths, image, package_programs(runtime.packages))
    user_needs(model, runtime.setup, image)
    # static: no shared libraries to collect, a JRE runs the jar
    finish_native(plan, chosen, runtime, build_user(model, traced.producers[-1].ins), static=True)
    return plan
