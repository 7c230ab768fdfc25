"""The split written out: the builder stage (the original instructions) and the runtime stage."""
from __future__ import annotations

import re

from ...facts.variables import references
from ...syntax import Instruction, Stage
from ..base import Context, newline_of
from .model import StageModel
from .plan import BUILDER, CARRIED, MOVED, Plan, copy_line

_MANIFESTS = ("package.json", "package-lock.json", "yarn.lock", "npm-shrinkwrap.json")


def builder_name(stage: Stage) -> str:
    return stage.name or BUILDER


def render(ctx: Context, model: StageModel, plan: Plan) -> str:
    nl = newline_of(ctx.tree)
    stage = model.stage
    builder = builder_name(stage)
    moved = [ins for ins in stage.instructions if ins.keyword in MOVED]
    carried = [ins for ins in stage.instructions if ins.keyword in CARRIED or ins.keyword == "ARG"]
    out = _builder(stage, plan, nl)
    out.append("")
    out.append("FROM " + (f"--platform={stage.platform} " if stage.platform else "") + plan.runtime)
    if plan.runtime_body is not None:
        out += [b.replace(f"--from={BUILDER} ", f"--from={builder} ") for b in plan.runtime_body]
    else:
        out += _configuration(ctx, model, plan, carried, moved)
        out += plan.pre_copy
        out += _artifacts(plan, builder)
        out += [ins.source.rstrip("\r\n") for ins in carried if ins.keyword == "VOLUME"]
        if model.user is not None:
            out.append([i for i in stage.instructions if i.keyword == "USER"][-1].source.rstrip("\r\n"))
        out += _moved_lines(moved, plan)
    return nl.join(_fix_newlines(out, nl)) + (nl if _ends_with_newline(stage) else "")


def _builder(stage: Stage, plan: Plan, nl: str) -> list[str]:
    """The original stage named as the builder, with the plan's edits; runtime metadata leaves."""
    from_text = stage.from_.source.rstrip("\r\n")
    if stage.name is None:
        from_text += f" AS {BUILDER}"
    out = [from_text, *plan.builder_prefix]
    for ins in stage.instructions:
        if ins.keyword in MOVED:
            continue
        if id(ins) not in plan.builder_edits:
            out.append(ins.full_source.rstrip("\r\n"))
            continue
        replacement = plan.builder_edits[id(ins)]
        if replacement:
            lead = "".join(ln.text for ln in ins.leading).rstrip("\r\n")
            out.append((lead + nl if lead else "") + replacement)
    return out + plan.builder_suffix


def _configuration(ctx: Context, model: StageModel, plan: Plan, carried: list[Instruction],
                   moved: list[Instruction]) -> list[str]:
    """The ARGs the runtime's instructions use, its ENVs and its WORKDIR."""
    stage = model.stage
    used: set[str] = set()
    for ins in carried + moved:
        if ins.keyword != "ARG":
            used |= references(ins.source)
    for ins in stage.instructions:
        if ins.keyword in ("WORKDIR", "USER"):
            used |= references(ins.source)
    out = [ins.source.rstrip("\r\n") for ins in carried
           if ins.keyword == "ARG" and {v.partition("=")[0] for v in ins.values} & used]
    out += [f"ARG {name}" for name in sorted((used - set(model.args)) & set(ctx.graph.args))]
    out += [ins.source.rstrip("\r\n") for ins in carried if ins.keyword == "ENV"]
    if model.workdir_set and not plan.drop_entry:
        if model.workdir is not None:
            out.append(f"WORKDIR {model.workdir}")
        else:
            out += [i.source.rstrip("\r\n") for i in stage.instructions if i.keyword == "WORKDIR"]
    return out


def _artifacts(plan: Plan, builder: str) -> list[str]:
    """The COPY --from lines, with what runs between the manifests and the build output (the
    production install) in its place."""
    out: list[str] = []
    first_output = True
    for src, dest, _glob in plan.artifacts:
        several = " " in src and '"' not in src and dest.endswith("/")
        line = copy_line(src.split(" ") if several else src, dest, plan.chown if dest != "/" else None, builder)
        if plan.post_copy and first_output and not src.split()[-1].endswith(_MANIFESTS):
            out += plan.post_copy
            first_output = False
        out.append(line)
    if plan.post_copy and first_output:
        out += plan.post_copy
    return out


def _moved_lines(moved: list[Instruction], plan: Plan) -> list[str]:
    out = []
    for ins in moved:
        if plan.drop_entry and ins.keyword in ("CMD", "ENTRYPOINT"):
            continue
        if plan.drop_expose and ins.keyword == "EXPOSE":
            continue
        comments = "".join(ln.text for ln in ins.leading if ln.kind == "COMMENT").rstrip("\r\n")
        out.append((comments + "\n" if comments else "") + ins.source.rstrip("\r\n"))
    return out


def _fix_newlines(lines: list[str], nl: str) -> list[str]:
    if nl == "\n":
        return [ln.replace("\r\n", "\n") for ln in lines]
    return [re.sub(r"(?<!\r)\n", "\r\n", ln) for ln in lines]


def _ends_with_newline(stage: Stage) -> bool:
    last = stage.instructions[-1] if stage.instructions else stage.from_
    return bool(last.lines[-1].newline)
