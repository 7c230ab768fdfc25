"""The split of a Go build: the binary into distroless (static, cgo off) or a slim image (cgo)."""
from __future__ import annotations

from ...ecosystems import go, native
from ...ecosystems.common import CannotTell
from ...facts import images
from .model import RunCommand
from .plan import (
    Plan,
    Runtime,
    Site,
    Traced,
    build_user,
    entry_outputs,
    entry_programs,
    finish_native,
    runtime_needs,
    runtime_plan,
    trace,
)

CERTS = "/etc/ssl/certs/ca-certificates.crt"
ZONEINFO = "/usr/share/zoneinfo"


def plan_go(site: Site) -> Plan:
    notes_cgo: dict[str, object] = {}
    model = site.model

    def produce(rc: RunCommand) -> list[tuple[str, str]]:
        c = rc.command
        sub = c.args[0].text if c.program == "go" and c.args else None
        if sub == "install":
            raise CannotTell("`go install` puts the binary in GOBIN: use `go build -o`")
        if sub == "build":
            paths, notes = go.build_outputs(c, rc.cwd, model.project)
            notes_cgo.update(notes)
            for a in c.assignments:
                if a.name == "CGO_ENABLED":
                    notes_cgo["assigned"] = a.value_text
            return [(p, "dir" if notes.get("dir") else "binary") for p in paths]
        if c.program == "make":
            return [(p, "binary") for p in native.make_outputs(c, rc.cwd, rc.env, model.project)]
        return []

    traced = trace(site, produce)
    chosen, cmds = entry_outputs(model, traced, "no binary comes out of the build (go build of several packages "
                                 "without -o only checks them)")
    runtime = runtime_needs(site, traced.build_ids, entry_programs(cmds), [p for p, _g in chosen])
    static, plan_notes = _cgo(site, traced, notes_cgo)
    facts = _source_facts(site, traced)
    if facts.reads_files:
        raise CannotTell("the program reads files by relative path at run time (" + "; ".join(facts.reads_files[:3])
                         + "): copy them into the runtime stage by hand")
    plan, configured = runtime_plan(site, "go", chosen, cmds, runtime, static=static, notes=plan_notes)
    if static and notes_cgo.get("assigned", model.env.get("CGO_ENABLED")) is None:
        plan.builder_prefix.append("ENV CGO_ENABLED=0")
    runtime = _certificates_and_zones(plan, runtime, facts, configured)
    finish_native(plan, chosen, runtime, build_user(model, traced.producers[-1].ins), static)
    return plan


def _source_facts(site: Site, traced: Traced) -> go.GoFacts:
    cwd = next((rc.cwd for rc in traced.producers if rc.cwd), None)
    return go.source_facts(site.files, site.model.context_path(cwd) if cwd else None)


def _cgo(site: Site, traced: Traced, notes: dict[str, object]) -> tuple[bool, list[str]]:
    """Whether the binary is static (cgo off), and why cgo stays on when it does."""
    assigned = notes.get("assigned", site.model.env.get("CGO_ENABLED"))
    if assigned == "0":
        return True, []
    if assigned == "1" or notes.get("cgo_flag"):
        return False, [f"cgo stays on ({notes.get('cgo_flag') or 'CGO_ENABLED=1'})"]
    facts = _source_facts(site, traced)
    if facts.cgo_needed is None:
        return False, [f"cgo left on: {facts.cgo_reason}"]
    if facts.cgo_needed:
        return False, [f"cgo stays on: {facts.cgo_reason}"]
    return True, []


def _certificates_and_zones(plan: Plan, runtime: Runtime, facts: go.GoFacts, configured: bool) -> Runtime:
    """The CA bundle and the zoneinfo the program may need: copied into scratch, installed in slim."""
    certs = facts.needs_certs if facts.needs_certs is not None else True
    tz = facts.needs_tzdata if facts.needs_tzdata is not None else True
    runtime_image = images.parse_image(plan.runtime)
    family = images.release_of(runtime_image).family if runtime_image is not None else "unknown"
    if family == "scratch":
        plan.artifacts += [(path, path, False) for need, path in ((certs, CERTS), (tz, ZONEINFO)) if need]
        return runtime
    if family in ("debian", "ubuntu") and not configured:
        # the slim images have neither the CA bundle nor zoneinfo
        pkgs = list(runtime.packages)
        pkgs += [pkg for need, pkg in ((certs, "ca-certificates"), (tz, "tzdata")) if need and pkg not in pkgs]
        return Runtime(runtime.manager or "apt-get", pkgs, runtime.dropped, runtime.setup)
    return runtime
