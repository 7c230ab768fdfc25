"""Run the final image as a non-root user.

## What it does
Finds a final stage that leaves the container running as root: no `USER` instruction (and a
base image that runs as root), or a last `USER root`/`USER 0`. When the base image is known,
the fix switches to a non-root user after the last instruction that installs or copies files:

* `gcr.io/distroless/*` and `scratch`: `USER 65532:65532` (distroless's `nonroot`);
* `node` images: `USER 1000` (their `node` user, whose uid the official images fix);
* Debian, Ubuntu and the official images built on them: `RUN useradd --system --uid 10001 app`
  and `USER 10001` (a user the Dockerfile already creates with `useradd`/`adduser` is used
  instead, by its uid when the command sets one);
* Alpine: `RUN adduser -S -D -H -u 10001 app` and `USER 10001`; busybox: `USER 65534:65534`.

A user the fix creates is named by its numeric id in `USER`: a runtime that checks for
non-root (Kubernetes' `runAsNonRoot`) can only verify a numeric one.

Images whose own entry point drops privileges (nginx, httpd, postgres, redis, ... or a CMD,
ENTRYPOINT or entrypoint script from the build context that runs `gosu`, `su-exec`, `setpriv`,
`runuser`, `chroot --userspec`) are left alone, and so are images meant as bases for others (no
CMD or ENTRYPOINT of their own: their children install as root), Windows images, and images
built from an image dockopt does not know (their USER may already be non-root).

The finding comes without a fix when switching users would break the image or go against what
the file says: an explicit `USER root` as the last USER; a server that starts as root to bind a
privileged port or write its pid file under `/run` (nginx, Apache httpd, sshd, ... or an `EXPOSE`
below 1024); files the image copies under `/root` (configuration the user could not read); an
entrypoint script dockopt cannot read; a stage whose `SHELL` is not a POSIX shell (the `RUN`
that creates the user would go to it).

## Why is this bad?
A process running as root in a container is root on the container's files and, after any
container escape, much closer to root on the host. Most programs need no privileges at all to
run; a dedicated user limits what a compromised process can do.

## Example
```dockerfile
FROM python:3.11-slim
COPY app.py /app/
CMD ["python", "/app/app.py"]
```
Use instead:
```dockerfile
FROM python:3.11-slim
RUN useradd --system --uid 10001 app
COPY app.py /app/
USER 10001
CMD ["python", "/app/app.py"]
```
The `useradd` goes above the first instruction that takes files from the build context, or from
a stage built from it (a build stage's output), so a source edit does not re-run it; `USER` goes after the
last instruction that installs or copies files, so they still run as root.

## Fix safety
Unsafe (only with `--unsafe-fixes`): the program loses write access to the files and
directories the build created as root (a WORKDIR it writes into, a cache, a data directory),
cannot bind privileged ports on engines older than Docker 20.10, and may not read files made
readable to root only. Give the user ownership of what it writes (`COPY --chown`, `chown`)
where needed.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from ..facts import images as rt
from ..facts.paths import is_under, join
from ..facts.variables import variable_reference
from ..findings import Edit, Finding
from ..syntax import Instruction, Stage
from .base import Context, MayChange, Pass, newline_of, unsafe_fix

# images whose entry point starts as root and then drops to its own user
SELF_DROPPING = {
    "nginx", "httpd", "postgres", "mysql", "mariadb", "redis", "mongo", "rabbitmq", "elasticsearch",
    "cassandra", "couchdb", "zookeeper", "wordpress", "php", "haproxy", "traefik", "jenkins", "memcached",
    "sonarqube", "tomcat", "kibana", "logstash", "solr", "neo4j", "influxdb", "grafana", "telegraf",
    "caddy", "registry", "vault", "consul", "drupal", "joomla", "nextcloud", "ghost", "odoo", "redmine",
    "mediawiki", "matomo", "owncloud", "gitlab-ce", "docker", "jupyter", "postfix",
}
_DROPPERS = re.compile(r"\b(gosu|su-exec|setpriv|chroot\s+--userspec|runuser|s6-setuidgid|chpst|su)\b")
# servers that start as root to bind a privileged port or write a pid file under /run, then drop
ROOT_SERVERS = frozenset({
    "nginx", "openresty", "httpd", "httpd-foreground", "apache2", "apache2ctl", "apachectl",
    "apache2-foreground", "lighttpd", "sshd", "vsftpd", "named", "dnsmasq", "squid", "postfix",
    "cron", "crond", "supervisord", "php-fpm", "haproxy", "varnishd", "exim", "dovecot", "slapd",
})
_RPM_FAMILY = {"centos", "fedora", "rockylinux", "almalinux", "amazonlinux", "oraclelinux"}
_ROOT = {"root", "0", "0:0", "root:root", "root:0", "0:root"}
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh"})
APP_USER = "app"
# ready-made users whose uid the official images fix (node: `useradd --uid 1000 node`, Debian and Alpine)
KNOWN_UIDS = {"node": "1000"}
APP_UID = "10001"


def _uid_word(word: str, declared: set[str]) -> bool:
    """A uid as a number, or as a `$VAR`/`${VAR}` that an ARG or ENV of the stage sets."""
    return word.isdigit() or variable_reference(word) in declared


# useradd/adduser options that take a value
_USER_VALUE_OPTIONS = frozenset({
    "-u", "--uid", "-g", "--gid", "-G", "--groups", "-s", "--shell", "-d", "--home", "--home-dir", "-c",
    "--comment", "--gecos", "-h", "-k", "--ingroup", "-K", "-e", "-f", "-p", "--key"})


def _user_words(words: list[str], declared: set[str]) -> tuple[list[str], str | None]:
    """(operands, uid) of a useradd/adduser's words; the uid when `-u`/`--uid` gives one."""
    operands: list[str] = []
    uid = None
    skip = False
    for i, w in enumerate(words):
        if skip:
            skip = False
            continue
        if w in ("-u", "--uid") and i + 1 < len(words) and _uid_word(words[i + 1], declared):
            uid = words[i + 1]
        elif w.startswith("--uid=") and _uid_word(w[6:], declared):
            uid = w[6:]
        if w.startswith("-"):
            skip = w in _USER_VALUE_OPTIONS
            continue
        operands.append(w)
    return operands, uid


def final_user(chain: list[Stage]) -> tuple[str | None, Instruction | None]:
    """The last USER of a stage chain (first stage first) and its instruction, or (None, None)."""
    for st in reversed(chain):
        for ins in reversed(st.instructions):
            if ins.keyword == "USER" and ins.values:
                return ins.values[0], ins
    return None, None


class NonrootUser(Pass):
    code = "DO302"
    may_change = MayChange(config=frozenset({"User"}), paths=(
        "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow",
        "/etc/passwd-", "/etc/group-", "/etc/shadow-", "/etc/gshadow-", "/home/*"))
    needs_proof = True
    name = "nonroot-user"
    summary = "The final image runs as root: switch to a non-root USER"

    def check(self, ctx: Context) -> Iterable[Finding]:
        tree = ctx.tree
        if not tree.stages:
            return
        stage = tree.stages[-1]
        chain = ctx.graph.chain(stage)
        found = self._runs_as_root(ctx, stage, chain)
        if found is None:
            return
        user, user_ins, facts, starts = found
        script, unreadable = _entrypoint_scripts(ctx, starts)
        if script:
            return      # its entrypoint script drops privileges
        base = ctx.graph.base_image(stage)
        where = f"USER {user} (line {user_ins.start_line})" if user_ins is not None else f"no USER; {base} runs as root"
        message = f"the final image runs as root ({where})"
        reason = unreadable or _keeps_root(ctx, stage, chain, starts, user_ins)
        if reason:
            yield self.finding(stage.from_, f"{message}; no fix: {reason}")
            return
        lines = self._user_lines(ctx, chain, facts)
        last_line = (stage.instructions[-1] if stage.instructions else stage.from_).lines[-1]
        if last_line.kind not in ("INSTR", "CONT_LAST", "HEREDOC_END"):
            yield self.finding(stage.from_, message + "; add a non-root USER (the file ends inside a continued "
                               "instruction)")
            return
        if lines is None:
            yield self.finding(stage.from_, message + "; add a non-root USER (unknown how to create one in "
                               f"{base})")
            return
        anchor = self._anchor(stage)
        early = self._first_volatile(ctx, stage, anchor)
        shell = _non_posix_shell(ctx, stage, early, lines)
        if shell:
            yield self.finding(stage.from_, f"{message}; no fix: {shell}")
            return
        edits = self._insertions(newline_of(tree), early, stage, anchor, lines)
        yield self.finding(stage.from_, message, unsafe_fix(f"Run as a non-root user ({lines[-1]})", *edits))

    def _runs_as_root(self, ctx: Context, stage: Stage, chain: list[Stage]
                      ) -> tuple[str | None, Instruction | None, rt.ImageFacts, list[Instruction]] | None:
        """(last USER, its instruction, the base image's facts, CMD/ENTRYPOINT) when the final image
        runs as root and none of it says the image drops privileges or is meant as a base."""
        user, user_ins = final_user(chain)
        if user is not None and ("$" in user or user.strip() not in _ROOT):
            return None
        base = ctx.graph.base_image(stage)        # the external image the chain builds on
        image = rt.parse_image(base)
        if image is None or rt.is_windows(base):
            return None  # Windows images have their own users (ContainerUser): not this rule's model
        facts = rt.facts_of(image)
        if image.name in _RPM_FAMILY and image.registry is None:
            facts = rt.ImageFacts(True, "useradd", None, True)
        if user is None and facts.runs_as_root is not True:
            return None  # the base image may already run as someone else
        starts = _starts(chain)
        if user_ins is None and not starts:
            return None  # meant as a base: the images built on it install as root
        if self._drops_privileges(chain, image):
            return None
        return user, user_ins, facts, starts

    @staticmethod
    def _insertions(nl: str, early: Instruction | None, stage: Stage, anchor: Instruction, lines: list[str]
                    ) -> list[Edit]:
        """Edits adding `lines` after `anchor`; a RUN that creates the user goes above `early`."""
        edits = []
        if early is not None and len(lines) > 1 and lines[0].startswith("RUN "):
            # Create the user above the first COPY whose files a source edit changes: that RUN then
            # stays cached when the sources change, instead of re-running after every edit.
            before = stage.instructions[stage.instructions.index(early) - 1] if early is not stage.instructions[0] \
                else stage.from_
            gap = nl if before.heredocs and before.end == early.leading_start else ""
            edits.append(Edit(early.leading_start, early.leading_start, gap + lines[0] + nl))
            lines = lines[1:]
        # a blank line after a heredoc's terminator: BuildKit does not need it, hadolint's parser does
        text = (nl if anchor.heredocs else "") + nl.join(lines)
        if anchor.lines[-1].newline:
            edits.append(Edit(anchor.end, anchor.end, text + nl))
        else:
            edits.append(Edit(anchor.end, anchor.end, nl + text))
        return edits

    @staticmethod
    def _first_volatile(ctx: Context, stage: Stage, anchor: Instruction) -> Instruction | None:
        """The first instruction of the stage that a source edit may re-run, when it is `anchor`
        or comes before it: a copy or bind mount of the build context, or a copy or mount of a
        stage that takes files from it (a build stage's output)."""
        for ins in stage.instructions:
            effects = ctx.inputs(ins)
            if effects.context_reads or (ins.keyword in ("COPY", "ADD") and ins.flag("from") is None
                                           and not ins.heredocs):
                return ins   # the anchor itself may be that COPY: the user still goes above it
            for value, _source in effects.stage_reads:
                ref = ctx.graph.ref(value, stage.index)
                if ref is not None and ctx.rebuild.reads_context(ref):
                    return ins
            if ins is anchor:
                return None
        return None
        return None

    @staticmethod
    def _drops_privileges(chain: list[Stage], image: rt.ImageRef) -> bool:
        if image.official and image.name in SELF_DROPPING:
            return True
        if image.name in SELF_DROPPING and image.registry is None and image.repository.split("/")[0] in (
                "bitnami", "jupyter", "library"):
            return True
        for st in chain:
            for ins in st.instructions:
                if ins.keyword in ("CMD", "ENTRYPOINT"):
                    text = " ".join(ins.values) if ins.is_json else ins.args
                    if _DROPPERS.search(text):
                        return True
        return False

    @staticmethod
    def _anchor(stage: Stage) -> Instruction:
        anchor = stage.from_
        for ins in stage.instructions:
            if ins.keyword in ("RUN", "COPY", "ADD", "WORKDIR", "USER", "ARG", "ENV", "SHELL"):
                anchor = ins
        return anchor

    @staticmethod
    def _created_user(ctx: Context, chain: list[Stage]) -> tuple[str, str | None] | None:
        """A user the Dockerfile creates (useradd/adduser) in the final stage's chain, and its uid when
        the command gives one."""
        found = None
        for st in chain:
            for ins in st.instructions:
                if ins.keyword != "RUN" or ins.is_json:
                    continue
                declared = set(ctx.state(ins).variables)   # `--uid=$APP_UID` can be USER $APP_UID
                for m in re.finditer(r"\b(useradd|adduser)\b([^&;|\n]*)", ins.args):
                    operands, uid = _user_words(m.group(2).split(), declared)
                    name = operands[-1 if m.group(1) == "useradd" else 0] if operands else ""
                    if re.fullmatch(r"[a-z_][a-z0-9_-]*\$?", name):
                        found = (name, uid)
        return found

    def _user_lines(self, ctx: Context, chain: list[Stage], facts: rt.ImageFacts) -> list[str] | None:
        setup = facts.user_setup
        if setup in ("distroless", "scratch"):
            return ["USER 65532:65532"]
        if setup == "busybox":
            return ["USER 65534:65534"]
        created = self._created_user(ctx, chain)
        if created and created[0] != "root":
            # numeric when the file fixes the uid: runAsNonRoot can only check a number
            return [f"USER {created[1] or created[0]}"]
        if facts.named_user:
            return [f"USER {KNOWN_UIDS.get(facts.named_user, facts.named_user)}"]
        if setup == "useradd":
            return [f"RUN useradd --system --uid {APP_UID} {APP_USER}", f"USER {APP_UID}"]
        if setup == "adduser":
            return [f"RUN adduser -S -D -H -u {APP_UID} {APP_USER}", f"USER {APP_UID}"]
        return None


def _starts(chain: list[Stage]) -> list[Instruction]:
    """The CMD and ENTRYPOINT in force at the end of the chain (the last of each)."""
    last: dict[str, Instruction] = {}
    for st in chain:
        for ins in st.instructions:
            if ins.keyword in ("CMD", "ENTRYPOINT"):
                last[ins.keyword] = ins
    return list(last.values())


def _start_words(ins: Instruction) -> list[str]:
    """The words of a CMD or ENTRYPOINT that name what it starts: its program, the script a
    shell runs, and the first word of a `sh -c` command."""
    words = list(ins.values) if ins.is_json else ins.args.split()
    out: list[str] = []
    while words:
        word = words.pop(0)
        out.append(word)
        if posixpath.basename(word) not in _SHELLS:
            break
        while words and words[0].startswith("-"):
            flag = words.pop(0)
            if flag.endswith("c") and words:
                words = words[0].split()
                break
    return out


def _entrypoint_scripts(ctx: Context, starts: list[Instruction]) -> tuple[bool, str]:
    """(a script the image starts with, copied from the build context, drops privileges;
    why dockopt cannot tell: a file of the context it cannot see, "" otherwise). A program that
    is not a script (an executable without `#!`) is taken as it is."""
    unreadable = ""
    for ins in starts:
        for word in _start_words(ins):
            origin = _context_file(ctx, ins, word)
            if origin is None:
                continue
            if not ctx.files.available:
                unreadable = f"{ins.keyword} runs {origin} from the build context, which dockopt cannot see " \
                             "(it may drop privileges itself)"
                continue
            text = ctx.files.sent_text(origin) if ctx.files.head(origin, 2) == b"#!" else None
            if text is not None and _DROPPERS.search(text):
                return True, ""
    return False, unreadable


def _context_file(ctx: Context, ins: Instruction, word: str) -> str | None:
    """The build-context file a CMD/ENTRYPOINT word runs: a path, or a name found on PATH."""
    state = ctx.state(ins)
    if "/" in word:
        path = join(state.cwd, word)
        return ctx.context_origin(ins, path) if path is not None else None
    for directory in (state.value("PATH") or "").split(":"):
        if directory.startswith("/"):
            origin = ctx.context_origin(ins, join("/", f"{directory}/{word}") or "")
            if origin is not None:
                return origin
    return None


def _keeps_root(ctx: Context, stage: Stage, chain: list[Stage], starts: list[Instruction],
                user_ins: Instruction | None) -> str:
    """Why the image must keep running as root ("" when nothing says so)."""
    if user_ins is not None:
        return f"line {user_ins.start_line} asks for root explicitly"
    for ins in starts:
        for word in _start_words(ins):
            if posixpath.basename(word) in ROOT_SERVERS:
                return (f"{posixpath.basename(word)} starts as root to bind its port and write its pid file, "
                        "then drops privileges itself")
    for st in chain:
        for ins in st.instructions:
            port = _privileged_port(ins)
            if port:
                return f"it exposes port {port}, which only root may bind on older engines"
            if ins.keyword in ("COPY", "ADD", "WORKDIR") and any(
                    is_under(w.path, "/root") for w in ctx.effects(ins).writes):
                return f"line {ins.start_line} puts files under /root, which another user cannot read"
    cwd = ctx.end_state(stage).cwd
    if cwd is not None and is_under(cwd, "/root"):
        return f"it works in {cwd}, which another user cannot read"
    return ""


def _privileged_port(ins: Instruction) -> str:
    """A port below 1024 an EXPOSE names ("" when none)."""
    if ins.keyword != "EXPOSE":
        return ""
    for value in ins.values:
        port = value.split("/")[0]
        if port.isdigit() and 0 < int(port) < 1024:
            return port
    return ""


def _non_posix_shell(ctx: Context, stage: Stage, early: Instruction | None, lines: list[str]) -> str:
    """Why the RUN that creates the user cannot go into the stage: the SHELL in force where it
    would go is not a POSIX shell ("" when it can, or when the fix adds no RUN)."""
    if not lines[0].startswith("RUN "):
        return ""
    for state in (ctx.state(early) if early is not None else None, ctx.end_state(stage)):
        if state is not None and not state.shell_kind.posix:
            return f"the RUN that creates the user would go to its SHELL ({state.shell_kind.reason})"
    return ""
