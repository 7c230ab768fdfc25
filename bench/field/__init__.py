"""The field bench: dockopt on real repositories, built before and after its rewrites.

    python -m bench.field [--root /work/field] [--only PATTERN ...] [--no-build]

For every Dockerfile of ``bench/field/manifest.tsv`` (a snapshot of a public repository checked
out under ``--root`` as ``<owner>+<name>``), it runs the installed ``dockopt`` command as a black
box: findings, ``--diff`` (safe fixes) and ``--diff --unsafe-fixes``.  Where the base images can be
had here, it copies the repository to a scratch directory, writes each rewrite into its own copy
(side files such as ``.dockerignore`` included), builds the original and both rewrites with
BuildKit (``docker buildx build``), and runs the manifest's smoke command or, without one, a
liveness probe (the image's own ENTRYPOINT/CMD for a few seconds).  A rewrite that breaks a build
or a probe the original passed is rebuilt with one rule code at a time (``--select CODE``) to name
the rule responsible.  The report goes to ``bench/field/REPORT.md`` with a JSON file beside it.
"""
