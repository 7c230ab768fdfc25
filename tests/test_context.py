"""BuildContext and .dockerignore semantics, on real temporary directories."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from dockopt.facts.buildcontext import BuildContext
from dockopt.facts.dockerignore import DockerignoreError, IgnoreMatcher, read_dockerignore
from dockopt.facts.paths import clean as go_clean
from dockopt.facts.paths import go_match, has_wildcards


def make_tree(root: Path, files: list[str], dockerignore: str | None = None) -> Path:
    for rel in files:
        path = root / rel
        if rel.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)
    if dockerignore is not None:
        (root / ".dockerignore").write_text(dockerignore)
    return root


def sent(ctx: BuildContext) -> set[str]:
    return set(ctx.sent_files())


# --------------------------------------------------------------------------- reading the file


def test_comments_blank_lines_and_whitespace() -> None:
    text = "# a comment\n\n   \n  *.log  \n #not-a-comment\n\t!keep.log\t\n"
    assert read_dockerignore(text) == [(4, "*.log"), (5, "#not-a-comment"), (6, "!keep.log")]


def test_patterns_are_cleaned_and_leading_slash_stripped() -> None:
    text = "/foo/bar\n./baz/../qux/\n!/src\n!  ./lib//x\n//abs\n/\n"
    assert [p for _, p in read_dockerignore(text)] == ["foo/bar", "qux", "!src", "!lib/x", "abs", "/"]


def test_bom_and_crlf() -> None:
    text = "\ufeffnode_modules\r\n*.tmp\r\n"
    assert [p for _, p in read_dockerignore(text)] == ["node_modules", "*.tmp"]


def test_go_clean() -> None:
    assert go_clean("") == "."
    assert go_clean("a/./b/../c/") == "a/c"
    assert go_clean("//x") == "/x"
    assert go_clean("../a") == "../a"


def test_lone_exclamation_mark_is_an_error(tmp_path: Path) -> None:
    make_tree(tmp_path, ["a"], "a\n!\n")
    with pytest.raises(DockerignoreError) as err:
        BuildContext(tmp_path)
    assert "illegal exclusion pattern" in str(err.value)
    assert err.value.line == 2
    assert str(tmp_path / ".dockerignore") in str(err.value)


@pytest.mark.parametrize("pattern", ["[", "a[", "[]", "[a-]", "abc\\"])
def test_malformed_pattern_is_an_error(pattern: str) -> None:
    with pytest.raises(DockerignoreError):
        IgnoreMatcher.from_text(pattern + "\n")


# --------------------------------------------------------------------------- matching rules


def test_no_dockerignore_sends_everything(tmp_path: Path) -> None:
    make_tree(tmp_path, ["Dockerfile", "src/app.py", ".git/HEAD"])
    ctx = BuildContext(tmp_path)
    assert ctx.dockerignore_path is None
    assert ctx.patterns == ()
    assert sent(ctx) == {"Dockerfile", "src/app.py", ".git/HEAD"}
    assert ctx.is_sent(".git")


def test_plain_name_matches_only_at_the_root(tmp_path: Path) -> None:
    make_tree(tmp_path, ["node_modules/a.js", "web/node_modules/b.js"], "node_modules\n")
    ctx = BuildContext(tmp_path)
    assert not ctx.is_sent("node_modules")
    assert not ctx.is_sent("node_modules/a.js")
    assert ctx.is_sent("web/node_modules/b.js")


def test_directory_pattern_with_trailing_slash_excludes_everything_under_it(tmp_path: Path) -> None:
    make_tree(tmp_path, [".git/HEAD", ".git/objects/ab/cd", "build/out/x.o", "src/build/y"], ".git/\nbuild/\n")
    ctx = BuildContext(tmp_path)
    assert ctx.patterns == (".git", "build")
    assert sent(ctx) == {"src/build/y", ".dockerignore"}
    assert not ctx.is_sent(".git/objects/ab/cd")


def test_leading_slash_is_relative_to_the_context_root(tmp_path: Path) -> None:
    make_tree(tmp_path, ["secret.txt", "sub/secret.txt"], "/secret.txt\n")
    ctx = BuildContext(tmp_path)
    assert not ctx.is_sent("secret.txt")
    assert ctx.is_sent("sub/secret.txt")


def test_double_star_matches_any_number_of_directories(tmp_path: Path) -> None:
    files = ["a.pyc", "pkg/b.pyc", "pkg/deep/er/c.pyc", "pkg/d.py"]
    make_tree(tmp_path, files, "**/*.pyc\n")
    ctx = BuildContext(tmp_path)
    assert sent(ctx) == {"pkg/d.py", ".dockerignore"}


def test_double_star_in_the_middle(tmp_path: Path) -> None:
    make_tree(tmp_path, ["a/b", "a/x/y/b", "a/x/c", "b"], "a/**/b\n")
    ctx = BuildContext(tmp_path)
    assert sent(ctx) == {"a/x/c", "b", ".dockerignore"}


def test_star_does_not_cross_directories(tmp_path: Path) -> None:
    # the example of Docker's .dockerignore reference
    files = ["somedir/temporary.txt", "somedir/temp/f", "somedir/subdir/temporary.txt", "tempa", "tempab", "temp"]
    make_tree(tmp_path, files, "# comment\n*/temp*\n*/*/temp*\ntemp?\n")
    ctx = BuildContext(tmp_path)
    assert sent(ctx) == {"tempab", "temp", ".dockerignore"}


def test_exception_reincludes_and_later_patterns_win(tmp_path: Path) -> None:
    files = ["README.md", "README-secret.md", "CHANGES.md", "main.go"]
    make_tree(tmp_path, files, "*.md\n!README*.md\nREADME-secret.md\n")
    assert sent(BuildContext(tmp_path)) == {"README.md", "main.go", ".dockerignore"}

    (tmp_path / ".dockerignore").write_text("*.md\nREADME-secret.md\n!README*.md\n")
    assert sent(BuildContext(tmp_path)) == {"README.md", "README-secret.md", "main.go", ".dockerignore"}


def test_star_then_exception_for_src(tmp_path: Path) -> None:
    files = ["Dockerfile", "src/main.py", "src/pkg/mod.py", "tests/t.py", "setup.py"]
    make_tree(tmp_path, files, "*\n!src\n")
    ctx = BuildContext(tmp_path)
    assert sent(ctx) == {"src/main.py", "src/pkg/mod.py"}
    assert ctx.is_sent("src")
    assert not ctx.is_sent("Dockerfile")  # no special case for the Dockerfile with BuildKit
    assert not ctx.is_sent(".dockerignore")
    assert ctx.glob(".") == ["."]
    assert ctx.glob("*") == ["src"]


def test_star_then_exception_for_a_nested_file(tmp_path: Path) -> None:
    make_tree(tmp_path, ["src/keep.py", "src/drop.py", "other/keep.py"], "*\n!src/keep.py\n")
    ctx = BuildContext(tmp_path)
    assert sent(ctx) == {"src/keep.py"}
    # the directory is excluded but travels because something under it is re-included
    assert ctx.is_sent("src")
    assert not ctx.is_sent("other")


def test_exception_inside_an_excluded_directory(tmp_path: Path) -> None:
    files = ["node_modules/keep", "node_modules/pkg/index.js", "app.js"]
    make_tree(tmp_path, files, "node_modules\n!node_modules/keep\n")
    ctx = BuildContext(tmp_path)
    assert sent(ctx) == {"node_modules/keep", "app.js", ".dockerignore"}
    assert ctx.is_sent("node_modules")
    assert not ctx.is_sent("node_modules/pkg")


def test_wildcard_exception_reaches_into_excluded_directories(tmp_path: Path) -> None:
    files = ["vendor/a/keep.txt", "vendor/a/drop.txt", "keep.txt"]
    make_tree(tmp_path, files, "vendor\n!**/keep.txt\n")
    ctx = BuildContext(tmp_path)
    assert ctx.matcher.prunes_by_prefix is False
    assert sent(ctx) == {"vendor/a/keep.txt", "keep.txt", ".dockerignore"}


def test_excluded_directory_is_pruned_like_buildkit(tmp_path: Path) -> None:
    # fsutil skips "a/x" (excluded, and no exception starts with "a/x/") even though
    # patternmatcher alone would say the exception "!a" re-includes "a/x/y".
    make_tree(tmp_path, ["a/x/y", "a/z"], "a/x\n!a\n")
    ctx = BuildContext(tmp_path)
    assert ctx.matcher.is_excluded("a/x/y") is False
    assert ctx.is_sent("a/x/y") is False
    assert sent(ctx) == {"a/z", ".dockerignore"}


def test_trailing_double_star_keeps_the_directory_itself(tmp_path: Path) -> None:
    make_tree(tmp_path, ["cache/a", "cache/b/c", "cached"], "cache/**\n")
    ctx = BuildContext(tmp_path)
    assert sent(ctx) == {"cached", ".dockerignore"}
    assert ctx.is_sent("cache")  # "cache/**" leaves an empty "cache" directory
    assert not ctx.is_sent("cache/a")


def test_leading_double_star_suffix_quirk() -> None:
    # patternmatcher's suffix fast path: "**foo" is a plain suffix test
    matcher = IgnoreMatcher.from_text("**foo\n**/bar.txt\n")
    assert matcher.is_excluded("xfoo")
    assert matcher.is_excluded("bar.txt")
    assert matcher.is_excluded("a/b/bar.txt")
    assert not matcher.is_excluded("xbar.txt")


def test_character_classes_question_mark_and_escapes() -> None:
    matcher = IgnoreMatcher.from_text("file[0-9].txt\nlog?\nweird\\*name\n[^a]x\n")
    assert matcher.is_excluded("file7.txt")
    assert not matcher.is_excluded("fileA.txt")
    assert matcher.is_excluded("log1")
    assert not matcher.is_excluded("log")
    assert not matcher.is_excluded("log/1")
    assert matcher.is_excluded("weird*name")
    assert not matcher.is_excluded("weirdXname")
    assert matcher.is_excluded("bx")
    assert not matcher.is_excluded("ax")


def test_regex_metacharacters_are_literal() -> None:
    matcher = IgnoreMatcher.from_text("a.b\n(x)+\n*.c$\n")
    assert matcher.is_excluded("a.b")
    assert not matcher.is_excluded("aXb")
    assert matcher.is_excluded("(x)+")
    assert matcher.is_excluded("foo.c$")


def test_dockerfile_specific_ignore_file_takes_precedence(tmp_path: Path) -> None:
    make_tree(tmp_path, ["a.txt", "b.txt", "docker/app.Dockerfile"], "a.txt\n")
    specific = tmp_path / "docker" / "app.Dockerfile.dockerignore"
    specific.write_text("b.txt\n")
    ctx = BuildContext(tmp_path, dockerfile=tmp_path / "docker" / "app.Dockerfile")
    assert ctx.dockerignore_path == specific
    assert ctx.is_sent("a.txt")
    assert not ctx.is_sent("b.txt")
    # without the Dockerfile path (or without a specific file) the root one applies
    assert BuildContext(tmp_path).dockerignore_path == tmp_path / ".dockerignore"
    plain = BuildContext(tmp_path, dockerfile=tmp_path / "Dockerfile")
    assert not plain.is_sent("a.txt")


# --------------------------------------------------------------------------- paths and walking


def test_exists_is_independent_of_dockerignore(tmp_path: Path) -> None:
    make_tree(tmp_path, ["package-lock.json", "package.json"], "package-lock.json\n")
    ctx = BuildContext(tmp_path)
    assert ctx.exists("package-lock.json") and not ctx.is_sent("package-lock.json")
    assert ctx.exists("package.json") and ctx.is_sent("package.json")
    assert not ctx.exists("yarn.lock")
    assert ctx.is_sent("yarn.lock")  # would be sent if it existed
    assert ctx.exists("./package.json") and ctx.exists("/package.json")


def test_paths_outside_the_context(tmp_path: Path) -> None:
    make_tree(tmp_path / "ctx", ["a"])
    (tmp_path / "outside").write_text("x")
    ctx = BuildContext(tmp_path / "ctx")
    assert not ctx.exists("../outside")
    assert not ctx.is_sent("../outside")
    assert ctx.glob("../*") == []
    assert ctx.is_sent(".")


def test_context_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        BuildContext(tmp_path / "missing")


def test_sent_files_order_and_under(tmp_path: Path) -> None:
    make_tree(tmp_path, ["b/2", "b/1", "a", "c/d/e"], "c/d\n")
    ctx = BuildContext(tmp_path)
    assert list(ctx.sent_files()) == [".dockerignore", "a", "b/1", "b/2"]
    assert list(ctx.sent_files("b")) == ["b/1", "b/2"]
    assert list(ctx.sent_files("c")) == []
    assert list(ctx.sent_files("a")) == ["a"]
    assert list(ctx.sent_files("missing")) == []


def test_sent_files_does_not_descend_into_pruned_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path, ["node_modules/x/y.js", "src/a.py"], "node_modules\n")
    scanned: list[str] = []
    real_scandir = os.scandir

    def recording_scandir(path: Path) -> Any:
        scanned.append(Path(path).name)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", recording_scandir)
    ctx = BuildContext(tmp_path)
    walk = ctx.sent_files()
    assert next(walk) == ".dockerignore"  # lazy: only the root has been read so far
    assert scanned == [tmp_path.name]
    assert list(walk) == ["src/a.py"]
    assert "node_modules" not in scanned and "x" not in scanned


def test_symlinks_are_listed_not_followed(tmp_path: Path) -> None:
    make_tree(tmp_path, ["real/f"])
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    ctx = BuildContext(tmp_path)
    assert sent(ctx) == {"real/f", "link"}


# --------------------------------------------------------------------------- COPY sources


def test_glob_matches_copy_sources(tmp_path: Path) -> None:
    files = ["package.json", "package-lock.json", "src/a.py", "src/b.txt", "src/sub/c.py", "notes.json"]
    make_tree(tmp_path, files, "notes.json\n")
    ctx = BuildContext(tmp_path)
    assert ctx.glob("package*.json") == ["package-lock.json", "package.json"]
    assert ctx.glob("*.json") == ["package-lock.json", "package.json"]  # notes.json is not sent
    assert ctx.glob("src/*.py") == ["src/a.py"]
    assert ctx.glob("src/**") == ["src/a.py", "src/b.txt", "src/sub"]  # "**" is just "*" in COPY
    assert ctx.glob("*/*.py") == ["src/a.py"]
    assert ctx.glob("src") == ["src"]
    assert ctx.glob("/src/a.py") == ["src/a.py"]
    assert ctx.glob("missing.txt") == []
    assert ctx.glob("notes.json") == []
    assert ctx.glob("src/[ab].*") == ["src/a.py", "src/b.txt"]


def test_glob_escaped_wildcard_is_literal(tmp_path: Path) -> None:
    make_tree(tmp_path, ["a*b", "axb"])
    ctx = BuildContext(tmp_path)
    assert not has_wildcards("a\\*b")
    assert ctx.glob("a*b") == ["a*b", "axb"]


def test_go_match() -> None:
    assert go_match("*.py", "a.py")
    assert go_match("*.py", ".hidden.py")  # no dotfile rule in Go
    assert not go_match("*.py", "a/b.py")
    assert go_match("?", "x") and not go_match("?", "/")
    assert go_match("[a-c]", "b") and not go_match("[a-c]", "d")
    assert go_match("[^a-c]", "d") and not go_match("[^a-c]", "a")
    assert go_match("[z-a]x", "x") is False  # reversed range matches nothing, no error
    assert go_match("a\\*", "a*") and not go_match("a\\*", "ab")
    assert go_match("[\\]]", "]")
    for bad in ["[", "[]", "[^]", "[a-", "x\\", "[-a]"]:
        with pytest.raises(ValueError):
            go_match(bad, "x")


def test_copied_files_expands_directories(tmp_path: Path) -> None:
    files = ["app/main.py", "app/__pycache__/main.pyc", "app/static/x.css", "requirements.txt", ".git/HEAD"]
    make_tree(tmp_path, files, ".git\n**/__pycache__\n")
    ctx = BuildContext(tmp_path)
    assert list(ctx.copied_files(".")) == [".dockerignore", "app/main.py", "app/static/x.css", "requirements.txt"]
    assert list(ctx.copied_files("app")) == ["app/main.py", "app/static/x.css"]
    assert list(ctx.copied_files("*.txt")) == ["requirements.txt"]
    assert list(ctx.copied_files(".git")) == []
