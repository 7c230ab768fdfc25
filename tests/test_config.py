"""Config discovery, CLI precedence, rule selection and errors."""
from __future__ import annotations

from pathlib import Path

import pytest

from dockopt.config import (
    ConfigError,
    RuleSelection,
    Settings,
    check_codes,
    find_config_file,
    load_config_file,
    load_settings,
    rule_enabled,
)

KNOWN = ["DO101", "DO102", "DO105", "DO106", "DO110", "DO201", "DO202", "DO302"]


def layer(settings: Settings) -> RuleSelection:
    """The configuration file's selection layer (after the default one)."""
    return settings.selection[-1]


def selected(settings: Settings) -> list[str]:
    return [code for code in KNOWN if rule_enabled(settings, code)]


def with_selection(select=None, extend_select=(), ignore=(), **kw) -> Settings:
    return Settings(selection=(Settings().selection[0], RuleSelection(select=select, extend_select=extend_select,
                                                                      ignore=ignore)), **kw)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository root (it has .git) with a Dockerfile two levels down."""
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    write(tmp_path / "repo" / "services" / "api" / "Dockerfile", "FROM scratch\n")
    return tmp_path / "repo"


# --------------------------------------------------------------------------- discovery


def test_defaults_without_any_config(repo):
    settings = load_settings(repo / "services" / "api" / "Dockerfile")
    assert settings == Settings()
    assert layer(settings).select == ("ALL",)
    assert selected(settings) == KNOWN
    assert settings.unsafe_fixes is False
    assert dict(settings.per_file_ignores) == {}
    assert settings.runtime_image("go") is None
    assert settings.config_path is None


def test_nearest_config_wins(repo):
    write(repo / ".dockopt.toml", 'ignore = ["DO1"]\n')
    inner = write(repo / "services" / ".dockopt.toml", 'ignore = ["DO2"]\n')
    settings = load_settings(repo / "services" / "api" / "Dockerfile")
    assert settings.config_path == inner
    assert settings.project_root == inner.parent
    assert layer(settings).ignore == ("DO2",)


def test_dockopt_toml_beats_pyproject_in_the_same_directory(repo):
    write(repo / "pyproject.toml", '[tool.dockopt]\nignore = ["DO3"]\n')
    dedicated = write(repo / ".dockopt.toml", 'ignore = ["DO4"]\n')
    assert find_config_file(repo / "services" / "api" / "Dockerfile") == dedicated


def test_pyproject_without_the_table_is_skipped(repo):
    write(repo / "services" / "api" / "pyproject.toml", '[project]\nname = "api"\n')
    upper = write(repo / "pyproject.toml", '[tool.dockopt]\nunsafe-fixes = true\n')
    settings = load_settings(repo / "services" / "api" / "Dockerfile")
    assert settings.config_path == upper
    assert settings.unsafe_fixes is True


def test_search_stops_at_the_repository_root(tmp_path, repo):
    write(tmp_path / ".dockopt.toml", 'ignore = ["DO1"]\n')  # above the repository: never used
    assert find_config_file(repo / "services" / "api" / "Dockerfile") is None
    # a config in the directory that holds .git is still found
    at_root = write(repo / ".dockopt.toml", "")
    assert find_config_file(repo / "services" / "api") == at_root


def test_search_reaches_the_filesystem_root_without_git(tmp_path):
    dockerfile = write(tmp_path / "a" / "b" / "Dockerfile", "FROM scratch\n")
    config = write(tmp_path / ".dockopt.toml", "")
    assert find_config_file(dockerfile) == config


def test_all_keys(repo):
    write(
        repo / ".dockopt.toml",
        """
select = ["DO1", "DO201"]
ignore = ["do105"]
unsafe-fixes = true
context = "../build"

[per-file-ignores]
"services/**/Dockerfile" = ["DO2"]
"*.dev.Dockerfile" = ["ALL"]

[runtime-base]
go = "gcr.io/distroless/static-debian12"
python = "python:3.12-slim"
""",
    )
    settings = load_settings(repo / "services" / "api" / "Dockerfile")
    assert layer(settings).select == ("DO1", "DO201")
    assert layer(settings).ignore == ("DO105",)  # codes are upper-cased
    assert settings.unsafe_fixes is True
    assert settings.context == repo / "../build"  # relative to the config file
    assert dict(settings.per_file_ignores) == {"services/**/Dockerfile": ("DO2",), "*.dev.Dockerfile": ("ALL",)}
    assert settings.runtime_image("go") == "gcr.io/distroless/static-debian12"
    assert settings.runtime_image("rust") is None


def test_runtime_base_as_a_single_image(tmp_path):
    config = write(tmp_path / ".dockopt.toml", 'runtime-base = "cgr.dev/chainguard/static"\n')
    settings = load_config_file(config)
    assert settings.runtime_image("go") == "cgr.dev/chainguard/static"
    assert settings.runtime_image("anything") == "cgr.dev/chainguard/static"


def test_settings_are_immutable():
    settings = Settings(exclude=["x/"], per_file_ignores={"x": ["DO2"]}, runtime_base="img")
    assert settings.exclude == ("x/",)
    with pytest.raises(AttributeError):
        settings.exclude = ("DO2",)  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.per_file_ignores["y"] = ("DO3",)  # type: ignore[index]
    assert settings.runtime_image("go") == "img"


# --------------------------------------------------------------------------- CLI overrides


def test_merged_overrides_only_what_was_given(tmp_path):
    config = write(tmp_path / ".dockopt.toml", 'select = ["DO1"]\nignore = ["DO105"]\nunsafe-fixes = true\n')
    settings = load_config_file(config)
    merged = settings.merged(select=None, ignore=["DO2"], unsafe_fixes=None, context=None)
    assert selected(merged) == ["DO101", "DO102", "DO106", "DO110"]  # the configured ignore stays
    assert merged.selection[-1] == RuleSelection(ignore=("DO2",), source="the command line")
    assert merged.unsafe_fixes is True
    assert merged.config_path == config
    assert selected(settings) == ["DO101", "DO102", "DO106", "DO110"]  # the original is untouched

    cli = settings.merged(select="DO1,DO3", unsafe_fixes=False, context="ctx", runtime_base="img")
    assert selected(cli) == ["DO101", "DO102", "DO105", "DO106", "DO110", "DO302"]
    assert cli.unsafe_fixes is False
    assert cli.context == Path("ctx")
    assert cli.runtime_image("go") == "img"


def test_merged_rejects_unknown_and_invalid_overrides():
    with pytest.raises(TypeError, match="colour"):
        Settings().merged(colour=True)
    with pytest.raises(ConfigError, match="select"):
        Settings().merged(select=["not a code"])


# --------------------------------------------------------------------------- errors


def test_unknown_key_names_file_and_key(tmp_path):
    config = write(tmp_path / ".dockopt.toml", 'selct = ["DO1"]\n')
    with pytest.raises(ConfigError) as err:
        load_config_file(config)
    assert err.value.path == config
    assert err.value.key == "selct"
    message = str(err.value)
    assert str(config) in message and "selct" in message and "did you mean 'select'" in message


def test_snake_case_key_suggests_kebab_case(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.dockopt]\nunsafe_fixes = true\n")
    with pytest.raises(ConfigError, match=r"unknown key in \[tool.dockopt\] \(did you mean 'unsafe-fixes'\?\)"):
        load_settings(tmp_path / "Dockerfile")


def test_unknown_key_in_discovered_pyproject(repo):
    write(repo / "pyproject.toml", "[tool.dockopt]\nfoo = 1\n")
    with pytest.raises(ConfigError) as err:
        load_settings(repo / "services" / "api" / "Dockerfile")
    assert err.value.path == repo / "pyproject.toml"
    assert err.value.key == "foo"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('select = "DO1"\nignore = 3\n', "ignore"),
        ("unsafe-fixes = 1\n", "unsafe-fixes"),
        ('select = ["DO-1"]\n', "select"),
        ('per-file-ignores = ["x"]\n', "per-file-ignores"),
        ('[per-file-ignores]\n"x" = [1]\n', "per-file-ignores.x"),
        ("runtime-base = 3\n", "runtime-base"),
        ("context = 3\n", "context"),
    ],
)
def test_wrong_value_types(tmp_path, text, key):
    config = write(tmp_path / ".dockopt.toml", text)
    with pytest.raises(ConfigError) as err:
        load_config_file(config)
    assert err.value.key == key
    assert str(config) in str(err.value)


def test_invalid_toml(tmp_path):
    config = write(tmp_path / ".dockopt.toml", "select = [\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config_file(config)


def test_named_pyproject_without_table(tmp_path):
    config = write(tmp_path / "pyproject.toml", "[project]\n")
    with pytest.raises(ConfigError, match=r"no \[tool.dockopt\] table"):
        load_config_file(config)


# --------------------------------------------------------------------------- rule selection


def test_default_selects_everything():
    assert rule_enabled(Settings(), "DO101", "Dockerfile")


def test_select_limits_to_prefixes():
    settings = with_selection(select=("DO1",))
    assert rule_enabled(settings, "DO101")
    assert not rule_enabled(settings, "DO201")


def test_ignore_beats_select_of_the_same_specificity():
    assert not rule_enabled(with_selection(select=("DO1",), ignore=("DO1",)), "DO101")
    assert not rule_enabled(with_selection(select=("ALL",), ignore=("ALL",)), "DO101")


def test_longer_prefix_wins():
    settings = with_selection(select=("DO101",), ignore=("DO1",))
    assert rule_enabled(settings, "DO101")
    assert not rule_enabled(settings, "DO102")
    settings = with_selection(select=("DO1",), ignore=("DO10",))
    assert not rule_enabled(settings, "DO105")
    assert rule_enabled(settings, "DO110")
    assert rule_enabled(with_selection(select=("DO2",), ignore=("ALL",)), "DO201")


def test_layers_resolve_as_in_ruff(tmp_path):
    config = write(tmp_path / ".dockopt.toml", 'select = ["DO1"]\nignore = ["DO102"]\n')
    settings = load_config_file(config)
    assert selected(settings) == ["DO101", "DO105", "DO106", "DO110"]
    # --extend-select adds, keeping the configured ignore
    assert selected(settings.merged(extend_select="DO302")) == ["DO101", "DO105", "DO106", "DO110", "DO302"]
    # --ignore adds to the configured ignores
    assert selected(settings.merged(ignore="DO105")) == ["DO101", "DO106", "DO110"]
    # --select replaces the configured selection, ignores included
    assert selected(settings.merged(select="DO102")) == ["DO102"]
    assert selected(settings.merged(select="DO10", ignore="DO106")) == ["DO101", "DO102", "DO105"]
    # a config layer with only extend-select adds to the default (everything)
    extend = write(tmp_path / "b" / ".dockopt.toml", 'extend-select = ["DO1"]\nignore = ["DO2"]\n')
    only_extend = load_config_file(extend)
    assert selected(only_extend) == ["DO101", "DO102", "DO105", "DO106", "DO110", "DO302"]


def test_empty_select_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="selects no rule"):
        Settings().merged(select="")
    with pytest.raises(ConfigError, match="key 'select': selects no rule"):
        load_config_file(write(tmp_path / ".dockopt.toml", "select = []\n"))


def test_unknown_codes_name_the_nearest_known_one(tmp_path):
    config = write(tmp_path / ".dockopt.toml", 'ignore = ["DO1", "DO111"]\n')
    with pytest.raises(ConfigError) as err:
        check_codes(load_config_file(config), KNOWN)
    assert str(err.value) == f"{config}: key 'ignore': unknown rule code DO111 (the nearest is DO110; see --list-rules)"
    with pytest.raises(ConfigError, match="--select: unknown rule code DL3059: that is hadolint's code; "
                                          "dockopt's equivalent is DO101"):
        check_codes(Settings().merged(select="DL3059"), KNOWN, {"DL3059": "DO101"})
    check_codes(Settings().merged(select="DO,DO1,DO10,ALL", ignore="DO302"), KNOWN)  # prefixes are fine


def test_per_file_ignores_merge(tmp_path):
    config = write(tmp_path / ".dockopt.toml", '[per-file-ignores]\n"a/*" = ["DO1"]\n'
                                                '[extend-per-file-ignores]\n"a/*" = ["DO2"]\n"b/*" = ["DO3"]\n')
    settings = load_config_file(config)
    assert dict(settings.per_file_ignores) == {"a/*": ("DO1", "DO2"), "b/*": ("DO3",)}
    merged = settings.merged(extend_per_file_ignores=["a/*:DO302", "c:DO101,DO102"])
    assert dict(merged.per_file_ignores) == {"a/*": ("DO1", "DO2", "DO302"), "b/*": ("DO3",), "c": ("DO101", "DO102")}
    replaced = settings.merged(per_file_ignores=["c:DO101"])
    assert dict(replaced.per_file_ignores) == {"c": ("DO101",)}
    with pytest.raises(ConfigError, match="expected GLOB:CODES"):
        settings.merged(per_file_ignores=["DO101"])


def test_severity_and_fail_level(tmp_path):
    config = write(tmp_path / ".dockopt.toml", 'fail-level = "Warning"\n[severity]\nDO1 = "error"\nDO101 = "info"\n')
    settings = load_config_file(config)
    assert settings.fail_level == "warning"
    assert settings.severity_of("DO101", "warning") == "info"  # the most specific selector
    assert settings.severity_of("DO102", "warning") == "error"
    assert settings.severity_of("DO302", "warning") == "warning"  # the rule's own
    assert settings.fails("error") and settings.fails("warning") and not settings.fails("info")
    assert settings.merged(fail_level="error").fail_level == "error"
    for bad in ('fail-level = "fatal"\n', '[severity]\nDO1 = "loud"\n'):
        with pytest.raises(ConfigError, match="expected one of info, warning, error"):
            load_config_file(write(tmp_path / "bad" / ".dockopt.toml", bad))


def test_exclude_patterns_add_up(tmp_path):
    settings = load_config_file(write(tmp_path / ".dockopt.toml", 'exclude = ["vendor/"]\n'))
    assert settings.exclude == ("vendor/",)
    assert settings.merged(exclude=["*.dev"]).exclude == ("vendor/", "*.dev")


def test_per_file_ignores(tmp_path):
    settings = Settings(
        per_file_ignores={"services/**/Dockerfile": ("DO2",), "*.dev.Dockerfile": ("ALL",)},
        selection=with_selection(select=("DO201",)).selection,
        project_root=tmp_path,
    )
    # a per-file ignore wins even over a more specific select
    assert not rule_enabled(settings, "DO201", tmp_path / "services" / "api" / "Dockerfile")
    assert not rule_enabled(settings, "DO201", tmp_path / "services" / "Dockerfile")
    assert rule_enabled(settings, "DO201", tmp_path / "Dockerfile")
    # a bare file-name glob matches in any directory
    assert not rule_enabled(settings, "DO201", tmp_path / "deep" / "x" / "app.dev.Dockerfile")
    # relative paths are taken as relative to the current directory, i.e. resolved
    assert rule_enabled(settings, "DO201", "Dockerfile")
