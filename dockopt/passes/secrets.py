"""A secret passed through `ARG` or `ENV`.

## What it does
Reports every `ARG` and `ENV` key whose name says it holds a secret, as Docker's own build check
`SecretsUsedInArgOrEnv` does: the name, split at underscores, has a part that is (in any case)
`apikey`, `auth`, `credential`, `credentials`, `key`, `password`, `pword`, `passwd`, `secret`
or `token` (`DB_PASSWORD`, `api_key`, `AWS_SECRET_ACCESS_KEY`, `GITHUB_TOKEN`), and no part that
is `public`, `file` or `version` (`PUBLIC_KEY`, `NODE_AUTH_TOKEN_FILE`, `GPG_KEY_VERSION` are
not reported). `MONKEY` or `PASSWORDS` are not parts, so they are not reported either. Every
pair counts: `ENV a=b c=d`, the legacy `ENV KEY value`, `ARG NAME` with or without a default.

It also reports a value that is a credential whatever its key is called, when the value has a
shape nothing else has: an AWS access key id (`AKIA` or `ASIA` and 16 upper-case letters or
digits), a GitHub token (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`), a GitLab
personal access token (`glpat-`), a Slack token (`xoxb-` ...), a PEM private key header, or a
URL with a literal password (`https://user:pass@host`; not when the password is a `$VARIABLE`).

One departure from BuildKit: a key whose name has a `gpg`, `pgp`, `gnupg` or `signing` part and
ends in `KEY` or `KEYS`, set to nothing but OpenPGP fingerprints or long key ids (40 or 16 hex
digits, several separated by spaces), holds public keys the build checks a signature with, not a
secret (`ENV GPG_KEY A035C8C1...` as the official Python images set it, `SWIFT_SIGNING_KEY`), and
is not reported; nor is an `ENV` that only passes such an `ARG` on (`ENV GPG_KEY=$GPG_KEY`).

`ARG`s before the first `FROM` are not reported (they only parameterise `FROM` and are not kept
in any image); `ONBUILD ARG` and `ONBUILD ENV` are (BuildKit's check does not look inside
`ONBUILD`). Messages name the key and never print the value.

## Why is this bad?
An `ENV` value is stored in the image configuration: `docker inspect` shows it, and so does every
container started from the image and every image built `FROM` it. A build argument's value is
recorded in the image history (`docker history`) of each `RUN` that uses it, and in the build
cache. An `ONBUILD` trigger is stored as text, value included, in the image configuration.
Anyone who can pull the image can read the secret.

## Example
```dockerfile
FROM python:3.12-slim
ARG PIP_INDEX_TOKEN
ENV DB_PASSWORD=changeme
RUN pip install --index-url "https://__token__:${PIP_INDEX_TOKEN}@pypi.example/simple" app
```
Use instead (a secret mount exists only while its `RUN` runs; nothing of it enters a layer, the
history or the cache key), and give the password to the container when it starts:
```dockerfile
# syntax=docker/dockerfile:1
FROM python:3.12-slim
RUN --mount=type=secret,id=pip_token,env=PIP_INDEX_TOKEN \\
    pip install --index-url "https://__token__:${PIP_INDEX_TOKEN}@pypi.example/simple" app
```
```console
$ docker build --secret id=pip_token,env=PIP_INDEX_TOKEN .
$ docker run -e DB_PASSWORD ...
```

## Fix safety
Display only: the suggestion is not applied. Moving a secret to a secret mount changes how the
image is built (`docker build --secret`) and, for an `ENV`, how it is run; only the author can
make that change. A name that is not a secret (`ENV SIGNING_KEY_ID=...`) is silenced with
`# dockopt: ignore=DO401` on the line above.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from ..facts.variables import arg_env_pairs, variable_reference
from ..findings import Finding, Fix, Safety
from ..syntax import Instruction
from ..syntax.arguments import Parsed
from .base import Context, MayChange, Pass

SECRET_PARTS = frozenset({"apikey", "auth", "credential", "credentials", "key", "password", "pword",
                          "passwd", "secret", "token"})
ALLOWED_PARTS = frozenset({"public", "file", "version"})

# values that are credentials by their shape alone (name, pattern)
VALUE_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key id", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")),
    ("a GitHub token", re.compile(r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36}"
                                  r"|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})(?![A-Za-z0-9])")),
    ("a GitLab access token", re.compile(r"(?<![A-Za-z0-9_-])glpat-[A-Za-z0-9_-]{20}(?![A-Za-z0-9_-])")),
    ("a Slack token", re.compile(r"(?<![A-Za-z0-9])xox[abposr]-[0-9]{6,}-[0-9A-Za-z-]{6,}")),
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("a URL with a password", re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@$]+:[^\s/@$]+@[^\s/@]")),
)

# a value made of OpenPGP fingerprints / long key ids only: public, used to verify signatures
_SIGNATURE_PARTS = frozenset({"gpg", "pgp", "gnupg", "signing"})
_FINGERPRINTS = re.compile(r"\s*(?:(?:0x)?(?:[0-9A-Fa-f]{40}|[0-9A-Fa-f]{16})(?:\s+|$))+")

MASK = "****"
REMEDY = "use `RUN --mount=type=secret,id=...` with `docker build --secret` instead, or set it at run time"


def secret_name(key: str) -> bool:
    """Whether BuildKit's SecretsUsedInArgOrEnv counts `key` as a secret's name."""
    parts = key.lower().split("_")
    return any(p in SECRET_PARTS for p in parts) and not any(p in ALLOWED_PARTS for p in parts)


def public_key_fingerprint(key: str, value: str | None) -> bool:
    """A `*KEY`/`*KEYS` set to OpenPGP fingerprints or long key ids: a public key, not a secret."""
    parts = key.lower().split("_")
    return (parts[-1] in ("key", "keys") and any(p in _SIGNATURE_PARTS for p in parts) and value is not None
            and _FINGERPRINTS.fullmatch(value) is not None)


def credential_shape(value: str | None) -> str | None:
    """What the value is when it looks like a literal credential, else None."""
    if not value:
        return None
    for what, pattern in VALUE_SHAPES:
        if pattern.search(value):
            return what
    return None


class SecretInArgEnv(Pass):
    code = "DO401"
    may_change = MayChange(config=frozenset({"Env"}))
    name = "secret-in-arg-env"
    summary = "A secret is passed through ARG or ENV and stays readable in the image"
    severity = "error"

    def check(self, ctx: Context) -> Iterable[Finding]:
        # defaults of the ARGs before the first FROM: a stage may re-declare them without a value
        outer = ctx.graph.args
        for stage in ctx.tree.stages:    # ARGs before the first FROM belong to no stage
            known: dict[str, str | None] = {}
            ships = ctx.graph.ships(stage)
            for ins in stage.instructions:
                if ins.keyword in ("ARG", "ENV"):
                    yield from self._check(ins, ins.parsed, "", known, outer, ships)
                elif ins.keyword == "ONBUILD" and ins.onbuild is not None:
                    yield from self._check(ins, ins.onbuild, "ONBUILD ", {}, {}, ships)

    def _check(self, ins: Instruction, parsed: Parsed, prefix: str, known: dict[str, str | None],
               outer: Mapping[str, str | None], ships: bool) -> Iterator[Finding]:
        kw = parsed.keyword.upper()
        seen: set[str] = set()
        for key, value in arg_env_pairs(parsed):
            if kw == "ARG" and value is None:
                value = outer.get(key)
            ref = variable_reference(value or "")
            resolved = known.get(ref) if ref else value
            known[key] = resolved
            shape = credential_shape(value)
            if key in seen or not (shape or (secret_name(key) and not public_key_fingerprint(key, resolved))):
                continue
            seen.add(key)
            shown = f"{prefix}{kw} {key}" + (f"={MASK}" if value else "")
            why = f"the value looks like {shape}" if shape else "the name says it is a secret"
            where = _where(kw, prefix) if ships else (
                f"{_where(kw, prefix)} of this build stage: no shipped image holds it, but the build cache and "
                "any `--target` build of the stage do")
            yield self.finding(ins, f"{shown}: {why}, and {where}; {REMEDY}",
                               Fix(f"Pass {key} as a build secret instead of {kw}", Safety.DISPLAY, ()),
                               instruction=f"{prefix}{kw}", key=key, reason=shape or "name")


def _where(kw: str, prefix: str) -> str:
    if prefix:
        return "ONBUILD triggers are kept as text in the image config"
    if kw == "ENV":
        return "ENV values are kept in the image config (`docker inspect`)"
    return "build arguments are kept in the image history (`docker history`) of the RUNs that use them"
