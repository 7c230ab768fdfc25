"""Totals over the per-file records of the field bench, and the Markdown report (no Docker here)."""
from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from .verdict import BROKEN, KEPT

Record = dict[str, Any]


def _rewrite_built(rec: Record, mode: str) -> bool:
    v = rec[mode]
    return bool(v["rewritten"]) and v["built"] is True


def flat_breaks(records: list[Record]) -> list[Record]:
    """One row per break: which file, which mode, what broke, which codes, the log line."""
    rows = []
    for rec in records:
        for b in rec["breaks"]:
            rows.append({"file": rec["key"], "lang": rec["lang"], **b})
    return rows


def edited_ignore_files(diff: str) -> list[str]:
    """Paths of the ``.dockerignore`` files (shared by every Dockerfile of the context, unlike
    ``<name>.dockerignore``) that a ``--diff`` output changes."""
    paths = []
    for line in diff.splitlines():
        if line.startswith("+++ "):
            path = line[4:].split("\t")[0].removeprefix("b/")
            if path.rsplit("/", 1)[-1] == ".dockerignore":
                paths.append(path)
    return paths


def shared_ignore_edits(records: list[Record]) -> list[Record]:
    """Rewrites that edit a context's ``.dockerignore`` which other Dockerfiles of the manifest
    build with too: a sibling's COPY may lose its sources (checked statically, whether or not the
    files can be built here)."""
    rows = []
    for rec in records:
        siblings = [o["dockerfile"] for o in records
                    if o is not rec and o["repo"] == rec["repo"] and o["context"] == rec["context"]]
        for mode in ("safe", "unsafe"):
            edited = edited_ignore_files(rec[mode]["diff"])
            if edited and siblings:
                rows.append({"file": rec["key"], "mode": mode, "ignore_file": edited[0], "siblings": siblings})
    return rows


def summarize(records: list[Record]) -> dict[str, Any]:
    findings = [r["findings"] for r in records if r["status"] != "error"]
    built = [r for r in records if r["original"]["built"] is True]
    out: dict[str, Any] = {
        "files": len(records),
        "repos": len({r["repo"] for r in records}),
        "files_by_lang": dict(sorted(Counter(r["lang"] for r in records).items())),
        "repos_by_lang": dict(sorted(Counter(lang for _, lang in {(r["repo"], r["lang"]) for r in records}).items())),
        "errors": sum(r["status"] == "error" for r in records),
        "findings": sum(findings),
        "findings_per_file_mean": round(statistics.mean(findings), 2) if findings else 0,
        "findings_per_file_median": statistics.median(findings) if findings else 0,
        "rewritten_safe": sum(bool(r["safe"]["rewritten"]) for r in records),
        "rewritten_unsafe": sum(bool(r["unsafe"]["rewritten"]) for r in records),
        "unsafe_same_as_safe": sum(bool(r["unsafe"]["rewritten"]) and r["unsafe"]["same_as"] == "safe"
                                   for r in records),
        "original_built": len(built),
        "original_failed": sum(r["original"]["built"] is False for r in records),
        "not_built": sum(r["status"] == "not built" for r in records),
        "substituted_and_built": sum(bool(r["substitutions"]) for r in built),
        "seconds": round(sum(r["seconds"] for r in records), 1),
        "dockopt_seconds": round(sum(r["dockopt_seconds"] for r in records), 2),
    }
    for mode in ("safe", "unsafe"):
        after = [(r["findings"], r[mode]["findings_after"]) for r in records if r[mode]["findings_after"] is not None]
        out[f"findings_before_after_{mode}"] = [sum(a for a, _ in after), sum(b for _, b in after), len(after)]
    for mode in ("safe", "unsafe"):
        rewritten_built = [r for r in built if r[mode]["rewritten"]]
        out[mode] = {
            "rewrites_of_built_files": len(rewritten_built),
            "built_after": sum(_rewrite_built(r, mode) for r in rewritten_built),
            "broken_build": sum(r[mode]["build_verdict"] == BROKEN for r in rewritten_built),
            "broken_probe": sum(r[mode]["probe_verdict"] == BROKEN for r in rewritten_built),
            "probe_kept": sum(r[mode]["probe_verdict"] == KEPT for r in rewritten_built),
            "broken_files": sum(r[mode]["build_verdict"] == BROKEN or r[mode]["probe_verdict"] == BROKEN
                                for r in rewritten_built),
            # the image's files compared with the original's (runs before this check have none)
            "files_compared": sum(r[mode].get("files_undeclared") is not None for r in rewritten_built),
            "files_undeclared": sum(bool(r[mode].get("files_undeclared")) for r in rewritten_built),
        }
    blamed: Counter[str] = Counter()
    for b in flat_breaks(records):
        for code in b["codes"]:
            blamed[f"{b['mode']} {code}"] += 1
    out["breaks_by_code"] = dict(sorted(blamed.items()))
    reasons: Counter[str] = Counter()
    for r in records:
        if r["status"] == "not built":
            reasons[_reason_class(r["reason"])] += 1
    out["not_built_reasons"] = dict(reasons.most_common())
    shared = shared_ignore_edits(records)
    out["shared_ignore_edits"] = {m: sum(row["mode"] == m for row in shared) for m in ("safe", "unsafe")}
    return out


def _reason_class(reason: str) -> str:
    if reason.startswith("base "):
        return "base image not available"
    if reason.startswith("the original does not build here"):
        return "original does not build here"
    return reason


def _cell(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _built(v: Record) -> str:
    if v["built"] is None and v["error_line"]:
        return "n/a"  # not tried: the rewrite needs an image this machine lacks
    return {True: "yes", False: "**no**", None: "-"}[v["built"]]


def _mode_cell(rec: Record, mode: str) -> str:
    v = rec[mode]
    if not v["rewritten"]:
        return "-"
    n = len(v["fixes"])
    return f"{n} fix{'es' if n != 1 else ''}" + (" (= safe)" if mode == "unsafe" and v["same_as"] else "")


def _verdict(rec: Record) -> str:
    parts = []
    for mode in ("safe", "unsafe"):
        v = rec[mode]
        if v["build_verdict"] == BROKEN:
            parts.append(f"**{mode} breaks build**")
        elif v["probe_verdict"] == BROKEN:
            parts.append(f"**{mode} breaks {rec['original']['probe'] and 'run'}**")
        elif v["build_verdict"] == KEPT:
            parts.append(f"{mode} ok")
    return ", ".join(parts) or "-"


def render_markdown(records: list[Record], summary: dict[str, Any], meta: dict[str, Any]) -> str:
    s = summary
    L: list[str] = ["# Field bench: dockopt on real repositories", ""]
    L.append(f"{meta.get('dockopt', 'dockopt')}, engine {meta.get('engine', '-')}, run {meta.get('started', '')}, "
             f"`{meta.get('command', 'python -m bench.field')}`. Liveness probe {meta.get('probe_seconds')} s, "
             "no network in the probed containers. Generated by `python -m bench.field`; do not edit by hand.")
    L += ["", "## Totals", "", "| figure | value |", "| --- | --- |"]
    langs = ", ".join(f"{k} {v}" for k, v in s["files_by_lang"].items())
    L += [
        f"| Dockerfiles / repositories | {s['files']} / {s['repos']} |",
        f"| files by language | {langs} |",
        f"| findings (mean, median per file) | {s['findings']} ({s['findings_per_file_mean']}, "
        f"{s['findings_per_file_median']}) |",
        f"| findings before / after the safe rewrite; after the unsafe rewrite | "
        f"{s['findings_before_after_safe'][0]} / {s['findings_before_after_safe'][1]}; "
        f"{s['findings_before_after_unsafe'][1]} ({s['findings_before_after_safe'][2]} files) |",
        f"| rewritten by safe fixes / by unsafe fixes | {s['rewritten_safe']} / {s['rewritten_unsafe']} "
        f"({s['unsafe_same_as_safe']} unsafe rewrites equal the safe one) |",
        f"| original built here | {s['original_built']} (of which {s['substituted_and_built']} with a substituted "
        f"base), not built {s['not_built']}, errors {s['errors']} |",
    ]
    for mode in ("safe", "unsafe"):
        m = s[mode]
        L.append(f"| {mode} rewrites of built files: built after / broke the build / broke smoke or liveness | "
                 f"{m['rewrites_of_built_files']}: {m['built_after']} / **{m['broken_build']}** / "
                 f"**{m['broken_probe']}** (probe kept {m['probe_kept']}) |")
    compared = "; ".join(f"{s[m].get('files_compared', 0)}: **{s[m].get('files_undeclared', 0)}**"
                         for m in ("safe", "unsafe"))
    L.append("| rewrites whose image files were compared with the original's: with differences no applied fix "
             f"declares (safe; unsafe) | {compared} |")
    L.append(f"| rewrites editing a `.dockerignore` shared with other manifest files (safe / unsafe) | "
             f"{s['shared_ignore_edits']['safe']} / {s['shared_ignore_edits']['unsafe']} |")
    L.append(f"| time: whole run / in dockopt | {s['seconds']:.0f} s / {s['dockopt_seconds']:.1f} s |")
    if s["not_built_reasons"]:
        L += ["", "Why files were not built: " + "; ".join(f"{k}: {v}" for k, v in s["not_built_reasons"].items())
              + "."]
    breaks = flat_breaks(records)
    L += ["", "## Breaks", ""]
    if not breaks:
        L.append("No rewrite broke a build or a probe that the original passed.")
    else:
        L += ["Each break was rebuilt with one code's fixes at a time (`--select CODE`); *codes* are those whose "
              "fixes alone reproduce it.", "",
              "| file | mode | broke | codes | failing step | line that shows it |",
              "| --- | --- | --- | --- | --- | --- |"]
        for b in breaks:
            L.append(f"| {_cell(b['file'], 80)} | {b['mode']} | {b['what']} | {', '.join(b['codes'])} | "
                     f"{_cell(b['step'], 90)} | `{_cell(b['line'], 200)}` |")
    L += _files_section(records)
    shared = shared_ignore_edits(records)
    L += ["", "## Shared .dockerignore edited", ""]
    if not shared:
        L.append("No rewrite edits a `.dockerignore` that another Dockerfile of the manifest shares.")
    else:
        L += ["A rewrite that edits the context's `.dockerignore` changes what its siblings (other Dockerfiles of "
              "the manifest building from the same context) receive; found from the diffs, built or not.", "",
              "| file | mode | ignore file | siblings sharing it |", "| --- | --- | --- | --- |"]
        L += [f"| {_cell(row['file'], 80)} | {row['mode']} | {row['ignore_file']} | "
              f"{_cell(', '.join(row['siblings']), 200)} |" for row in shared]
    L += ["", "## Per file", "",
          "Build and probe columns: original / safe rewrite / unsafe rewrite. Probe: the smoke command's exit, or "
          "the liveness probe (`running` after the window, or the exit code).", "",
          "| file | lang | findings (after safe / unsafe) | safe | unsafe | built | probe | verdict | time | note |",
          "| --- | --- | ---: | --- | --- | --- | --- | --- | ---: | --- |"]
    L += [_file_row(r) for r in records]
    L += _by_code_section(records, s)
    return "\n".join(L) + "\n"


def undeclared_file_changes(records: list[Record]) -> list[Record]:
    """One row per rewrite whose image holds files that differ from the original's where no
    applied fix declares a change (a build and a probe can pass over such a change)."""
    rows = []
    for rec in records:
        for mode in ("safe", "unsafe"):
            v = rec[mode]
            if v.get("files_undeclared") and not v.get("same_as"):
                rows.append({"file": rec["key"], "mode": mode, "paths": v["files_undeclared"],
                             "compared": v["files_compared"], "examples": v["files_examples"], "fixes": v["fixes"]})
    return rows


def _files_section(records: list[Record]) -> list[str]:
    rows = undeclared_file_changes(records)
    L = ["", "## Image files no fix declares", ""]
    if not any(r[m].get("files_undeclared") is not None for r in records for m in ("safe", "unsafe")):
        return [*L, "No rewrite's image files were compared in this run."]
    if not rows:
        return [*L, "Every compared rewrite holds the original's files, but for caches, logs, docs, temporary files "
                "and the paths its fixes declare."]
    L += ["Paths the rewrite added, removed or changed beyond the paths its applied fixes declare (caches, logs, "
          "docs and temporary files left out): to review, each may be a quiet break.", "",
          "| file | mode | paths (of compared) | fixes | examples |", "| --- | --- | ---: | --- | --- |"]
    L += [f"| {_cell(r['file'], 80)} | {r['mode']} | {r['paths']} ({r['compared']}) | "
          f"{', '.join(dict.fromkeys(r['fixes']))} | {_cell('; '.join(r['examples']), 300)} |" for r in rows]
    return L


def _file_row(r: Record) -> str:
    """One file's row of the per-file table."""
    built = " / ".join(_built(r[m]) if (m == "original" or r[m]["rewritten"]) else "-"
                       for m in ("original", "safe", "unsafe"))
    probes = " / ".join(r[m]["probe"] or "-" for m in ("original", "safe", "unsafe"))
    note = "; ".join([r["reason"]] * bool(r["reason"]) + [
        f"{m} rewrite: {r[m]['error_line']}" for m in ("safe", "unsafe")
        if r[m]["built"] is None and r[m]["error_line"] and not r[m]["same_as"]])
    if r["substitutions"]:
        note = (note + "; " if note else "") + "base substituted: " + ", ".join(
            f"{k} → {v}" for k, v in r["substitutions"].items())
    after = " / ".join("-" if r[m]["findings_after"] is None else str(r[m]["findings_after"])
                       for m in ("safe", "unsafe"))
    return (f"| {_cell(r['key'], 90)} | {r['lang']} | {r['findings']} ({after}) | {_mode_cell(r, 'safe')} | "
            f"{_mode_cell(r, 'unsafe')} | {built} | {probes} | {_verdict(r)} | {r['seconds']:.0f} s | "
            f"{_cell(note, 220)} |")


def _by_code_section(records: list[Record], s: dict[str, Any]) -> list[str]:
    """The findings, fixes and breaks of each rule code."""
    codes: Counter[str] = Counter()
    for r in records:
        codes.update(r["finding_codes"])
    fixed: dict[str, Counter[str]] = {m: Counter() for m in ("safe", "unsafe")}
    for r in records:
        for m in fixed:
            fixed[m].update(r[m]["fixes"])
    L = ["", "## Findings and fixes by code", "", "| code | findings | safe fixes | unsafe-mode fixes | breaks |",
         "| --- | ---: | ---: | ---: | --- |"]
    for code in sorted(set(codes) | set(fixed["safe"]) | set(fixed["unsafe"])):
        blame = ", ".join(f"{k.split()[0]} {v}" for k, v in s["breaks_by_code"].items() if k.split()[-1] == code)
        L.append(f"| {code} | {codes[code]} | {fixed['safe'][code]} | {fixed['unsafe'][code]} | {blame or '-'} |")
    return L
