"""The split of a static site generated inside a web server image: the document root copied into
a clean copy of the same server image."""
from __future__ import annotations

from ...ecosystems.common import CannotTell
from .detect import WEB_ROOTS, is_system_install, words
from .plan import Plan, Site, carry_setup, entry_programs, entry_refs, pkg_install_line, runtime_needs


def plan_static(site: Site) -> Plan:
    model = site.model
    root = WEB_ROOTS[site.image.name]
    build_ids = {id(rc.ins) for rc in site.commands
                 if not is_system_install(rc) and any(a and a.startswith(root) for a in words(rc))}
    plan = Plan("static", model.base)
    _refs, cmds = entry_refs(model)
    runtime = runtime_needs(site, build_ids, entry_programs(cmds) | {"nginx", "httpd"}, [root])
    if not runtime.dropped:
        raise CannotTell("every package it installs may be needed at run time")
    if runtime.packages:
        plan.pre_copy.append(pkg_install_line(runtime.manager or "apt-get", runtime.packages))
    # configuration copied from the context into the server's config stays
    plan.pre_copy += [copy.ins.source.rstrip("\r\n") for copy in model.copies
                      if copy.dest and copy.dest.startswith(("/etc/", "/docker-entrypoint"))]
    carry_setup(plan, runtime.setup, model.base)
    plan.artifacts.append((root + "/", root + "/", False))
    plan.notes.append("leaves out " + ", ".join(runtime.dropped))
    return plan
