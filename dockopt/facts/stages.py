"""The stage graph: which stage is built FROM which, which stages copy from which, which ship.

BuildKit's rules: `FROM <name>` builds on an earlier stage of that name (names compare without
case; an index is no stage reference in FROM); `COPY --from=<name or index>` and
`RUN --mount=from=<name or index>` read an earlier stage; anything else names an image. The base
name and `--from` values are read with the ARGs declared before the first FROM.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from ..syntax import Dockerfile, Instruction, Stage
from .mounts import parse_mounts
from .variables import expand, unquote

__all__ = ["StageGraph", "global_args"]


def global_args(tree: Dockerfile) -> dict[str, str | None]:
    """The ARGs declared before the first FROM and their defaults (None: no default)."""
    out: dict[str, str | None] = {}
    for ins in tree.instructions:
        if ins.keyword == "FROM":
            break
        if ins.keyword == "ARG":
            for word in ins.values:
                name, eq, default = word.partition("=")
                out[name] = unquote(default) if eq else None
    return out


@dataclass(frozen=True, eq=False)
class StageGraph:
    """The stages of one Dockerfile and how they depend on each other."""

    tree: Dockerfile
    args: Mapping[str, str | None] = field(default_factory=dict)   # the ARGs before the first FROM

    @property
    def stages(self) -> tuple[Stage, ...]:
        return self.tree.stages

    @property
    def final(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    @cached_property
    def _of_instruction(self) -> dict[int, Stage]:
        out: dict[int, Stage] = {}
        for st in self.stages:
            out[id(st.from_)] = st
            for ins in st.instructions:
                out[id(ins)] = st
        return out

    def stage_of(self, ins: Instruction) -> Stage | None:
        """The stage `ins` belongs to (its FROM included); None before the first FROM."""
        return self._of_instruction.get(id(ins))

    def base_name(self, stage: Stage) -> str:
        """The FROM's image or stage name, with the global ARGs' defaults filled in when known."""
        base = stage.base
        if "$" in base:
            return expand(base, self.args) or base
        return base

    @cached_property
    def _parents(self) -> dict[int, Stage]:
        out: dict[int, Stage] = {}
        by_name: dict[str, Stage] = {}
        for st in self.stages:
            parent = by_name.get(self.base_name(st).lower())
            if parent is not None:
                out[st.index] = parent
            if st.name:
                by_name[st.name.lower()] = st
        return out

    def parent(self, stage: Stage) -> Stage | None:
        """The earlier stage this one is built FROM, None when it starts from an image."""
        return self._parents.get(stage.index)

    def chain(self, stage: Stage) -> list[Stage]:
        """`stage` and the stages it is built FROM, the oldest first."""
        out = [stage]
        while (parent := self.parent(out[0])) is not None:
            out.insert(0, parent)
        return out

    def root(self, stage: Stage) -> Stage:
        """The stage of the chain that starts from an image."""
        return self.chain(stage)[0]

    def base_image(self, stage: Stage) -> str:
        """The image the stage's chain starts from (`scratch` included), global ARGs filled in."""
        return self.base_name(self.root(stage))

    def descendants(self, stage: Stage) -> list[Stage]:
        """Stages built FROM this one, directly or through others, in file order."""
        return [st for st in self.stages if st is not stage and stage in self.chain(st)]

    def before(self, ins: Instruction) -> list[Instruction]:
        """What ran before `ins` in the image it runs in: its stage's ancestors, then its stage."""
        stage = self.stage_of(ins)
        if stage is None:
            return []
        out: list[Instruction] = []
        for st in self.chain(stage)[:-1]:
            out += st.instructions
        for i in stage.instructions:
            if i is ins:
                break
            out.append(i)
        return out

    def after(self, ins: Instruction) -> list[Instruction]:
        """What runs on top of `ins`'s layer: the rest of its stage and every stage built FROM it."""
        stage = self.stage_of(ins)
        if stage is None:
            return []
        rest = list(stage.instructions)
        position = next((k for k, i in enumerate(rest) if i is ins), -1)
        out = rest[position + 1:]
        for st in self.descendants(stage):
            out += st.instructions
        return out

    # -- stages read by COPY --from and RUN --mount=from ------------------------------------------
    def ref(self, value: str, before: int) -> Stage | None:
        """The stage a `--from=` value names (a name, or an index) among the stages before `before`."""
        if "$" in value:
            value = expand(value, self.args) or value
        low = value.lower()
        for st in self.stages[:before]:
            if st.name and st.name.lower() == low:
                return st
        if value.isdigit() and int(value) < before:
            return self.stages[int(value)]
        return None

    @staticmethod
    def from_values(ins: Instruction) -> Iterator[str]:
        """The `--from` values of a COPY/ADD and the `from=` of a RUN's mounts, as written."""
        if ins.keyword in ("COPY", "ADD"):
            flag = ins.flag("from")
            if flag is not None and flag.value:
                yield flag.value
        if ins.keyword == "RUN":
            for mount in parse_mounts(ins):
                if mount.from_:
                    yield mount.from_

    def copied_from(self, stage: Stage) -> list[Stage]:
        """The earlier stages the stage reads with COPY --from or a mount."""
        out: list[Stage] = []
        for ins in stage.instructions:
            for value in self.from_values(ins):
                ref = self.ref(value, stage.index)
                if ref is not None and ref not in out:
                    out.append(ref)
        return out

    @cached_property
    def needed(self) -> frozenset[int] | None:
        """Indexes of the stages building the final stage needs (its chain, what it copies from,
        and so on); None when a reference is only known at build time or an ONBUILD may add one."""
        final = self.final
        if final is None:
            return frozenset()
        used = {final.index}
        todo = [final]
        while todo:
            st = todo.pop()
            if "$" in st.base:
                return None       # a build argument may make it another stage
            targets = [self.parent(st)]
            for ins in st.instructions:
                if ins.keyword == "ONBUILD":
                    return None
                for value in self.from_values(ins):
                    if "$" in value:
                        return None
                    targets.append(self.ref(value, st.index))
            for target in targets:
                if target is not None and target.index not in used:
                    used.add(target.index)
                    todo.append(target)
        return frozenset(used)

    @cached_property
    def shipped(self) -> frozenset[int]:
        """Stages whose layers end up in some image: the final stage, every stage no other stage
        copies from (a `--target` may build it), and the stages they are built FROM."""
        if not self.stages:
            return frozenset()
        copied: set[int] = set()
        for st in self.stages:
            for ins in st.instructions:
                for value in self.from_values(ins):
                    ref = self.ref(value, len(self.stages))
                    if ref is not None:
                        copied.add(ref.index)
        targets = [st for st in self.stages if st.index not in copied or st is self.final]
        return frozenset(s.index for st in targets for s in self.chain(st))

    def ships(self, stage: Stage) -> bool:
        """The stage's layers end up in some image (see `shipped`): what a size rule looks at.
        A builder stage only read by `COPY --from` does not ship."""
        return stage.index in self.shipped

    def in_final_image(self, stage: Stage) -> bool:
        """The stage's layers are layers of the final image (it is the final stage or one it is
        built FROM)."""
        final = self.final
        return final is not None and stage in self.chain(final)
