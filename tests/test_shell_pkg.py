"""Package-manager and dependency-installer models built from real-world RUN lines."""
from __future__ import annotations

import pytest

from dockopt.shell import parse_script, parse_tool, tool_commands


def tool(text: str, index: int = 0):
    found = tool_commands(parse_script(text))
    return found[index]


def insert(text: str, flag: str, index: int = 0) -> str:
    model = tool(text, index)
    at, added = model.flag_insertion(flag)
    return text[:at] + added + text[at:]


# --- apt ---------------------------------------------------------------------

APT = ("apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u5"
       " ca-certificates && rm -rf /var/lib/apt/lists/*")


def test_apt_update_install_chain():
    update, install = tool_commands(parse_script(APT))
    assert (update.manager, update.subcommand, update.packages) == ("apt-get", "update", ())
    assert install.subcommand == "install"
    assert install.has_flag("-y") and install.has_flag("--no-install-recommends")
    assert [(p.name, p.operator, p.version) for p in install.packages] == [
        ("curl", "=", "7.88.1-10+deb12u5"), ("ca-certificates", None, None)]
    assert install.assumes_yes is True
    assert [p.word.raw for p in install.packages] == ["curl=7.88.1-10+deb12u5", "ca-certificates"]


def test_flag_goes_right_after_the_subcommand():
    assert insert("apt-get install curl", "-y") == "apt-get install -y curl"
    assert insert("apt-get -q install curl", "--no-install-recommends") == \
        "apt-get -q install --no-install-recommends curl"
    assert insert("sudo apt install curl", "-y") == "sudo apt install -y curl"
    assert insert("pip install -r requirements.txt", "--no-cache-dir") == \
        "pip install --no-cache-dir -r requirements.txt"
    assert insert("python3 -m pip install .", "--no-cache-dir") == "python3 -m pip install --no-cache-dir ."
    assert insert("apk add curl", "--no-cache") == "apk add --no-cache curl"
    assert insert("yum install httpd", "-y") == "yum install -y httpd"
    assert insert("gem install bundler", "--no-document") == "gem install --no-document bundler"
    assert insert("yarn", "--frozen-lockfile") == "yarn --frozen-lockfile"
    assert insert("npm cache clean", "--force") == "npm cache clean --force"


@pytest.mark.parametrize(("text", "yes"), [
    ("apt-get install -y x", True),
    ("apt-get install --yes x", True),
    ("apt-get install --assume-yes x", True),
    ("apt-get -qy install x", True),
    ("apt-get -qq install x", True),          # quiet level 2 implies -y
    ("apt-get -q=2 install x", True),
    ("apt-get -o APT::Get::Assume-Yes=true install x", True),
    ("apt-get install x", False),
    ("apt-get -q install x", False),
    ("apt install x", False),
    ("yum install -y x", True),
    ("dnf --assumeyes install x", True),
    ("microdnf install x", False),
    ("zypper -n install x", True),
    ("zypper --non-interactive in x", True),
    ("zypper install -y x", True),
    ("zypper install x", False),
    ("apk add x", None),                       # never asks
    ("pip install x", None),
])
def test_assumes_yes(text, yes):
    assert tool(text).assumes_yes is yes


def test_apt_options_taking_values_are_not_packages():
    install = tool('apt-get install -y -o Dpkg::Options::="--force-confold" -t bookworm-backports nginx')
    assert [p.name for p in install.packages] == ["nginx"]
    assert install.flag_values("-o") == ("Dpkg::Options::=--force-confold",)
    assert install.flag("-t").value == "bookworm-backports"


@pytest.mark.parametrize(("text", "subcommand"), [
    ("apt-get upgrade -y", "upgrade"),
    ("apt-get dist-upgrade -y", "dist-upgrade"),
    ("apt-get remove --purge -y x", "remove"),
    ("apt-get purge -y x", "purge"),
    ("apt-get autoremove -y", "autoremove"),
    ("apt-get clean", "clean"),
    ("DEBIAN_FRONTEND=noninteractive apt-get -yq update", "update"),
])
def test_apt_subcommands(text, subcommand):
    model = tool(text)
    assert model.manager == "apt-get" and model.subcommand == subcommand


def test_apt_local_deb_is_a_file():
    model = tool("apt-get install -y ./google-chrome-stable_current_amd64.deb")
    assert model.packages == ()
    assert [f.path for f in model.files] == ["./google-chrome-stable_current_amd64.deb"]


def test_apt_with_sudo_and_env():
    model = tool("sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y git")
    assert model.manager == "apt-get" and [p.name for p in model.packages] == ["git"]
    assert [w.text for w in model.command.wrappers] == ["sudo", "env"]


# --- apk ---------------------------------------------------------------------

def test_apk_add_virtual_no_cache():
    model = tool("apk add --no-cache --virtual .build-deps gcc musl-dev=1.2.4-r2 'python3~3.11'")
    assert model.manager == "apk" and model.subcommand == "add"
    assert model.has_flag("--no-cache")
    assert model.flag("--virtual").value == ".build-deps"
    assert [(p.name, p.operator, p.version) for p in model.packages] == [
        ("gcc", None, None), ("musl-dev", "=", "1.2.4-r2"), ("python3", "~", "3.11")]


def test_apk_del_and_update():
    assert tool("apk del .build-deps").subcommand == "del"
    assert [p.name for p in tool("apk del .build-deps").packages] == [".build-deps"]
    assert tool("apk update").subcommand == "update"
    assert tool("apk -U add curl").has_flag("-U")


# --- pip and friends -------------------------------------------------------------

def test_pip_requirements_no_cache():
    model = tool("pip install --no-cache-dir -r requirements.txt")
    assert (model.manager, model.subcommand) == ("pip", "install")
    assert model.has_flag("--no-cache-dir")
    assert [f.path for f in model.files] == ["requirements.txt"]
    assert model.packages == ()


@pytest.mark.parametrize("text", [
    "pip install --requirement=requirements/prod.txt",
    "pip3 install -rrequirements/prod.txt",
    "python -m pip install -r requirements/prod.txt",
    "/opt/venv/bin/pip install -r requirements/prod.txt",
])
def test_pip_requirement_spellings(text):
    assert [f.path for f in tool(text).files] == ["requirements/prod.txt"]


def test_python_m_pip_install_local_project():
    model = tool("python3 -m pip install .")
    assert model.manager == "pip" and model.tool_word.text == "pip"
    assert [f.path for f in model.files] == ["."]
    assert model.command.name == "python3"


def test_pip_packages_constraints_editables():
    model = tool("pip install --user -c constraints.txt -e ./libs/core -e git+https://x/y.git#egg=y "
                 "'uvicorn[standard]==0.29.0' 'django>=4.2,<5' requests ./dist/app-1.0-py3-none-any.whl")
    assert model.has_flag("--user")
    assert [f.path for f in model.files] == ["constraints.txt", "./libs/core",
                                             "./dist/app-1.0-py3-none-any.whl"]
    assert [(p.name, p.operator, p.version) for p in model.packages] == [
        ("uvicorn", "==", "0.29.0"), ("django", ">=", "4.2,<5"), ("requests", None, None)]


def test_pip_global_option_before_subcommand():
    model = tool("pip --no-cache-dir install flask")
    assert model.subcommand == "install" and model.has_flag("--no-cache-dir")
    assert [f.name for f in model.global_flags] == ["--no-cache-dir"]


def test_pip_index_url_value_is_not_a_package():
    model = tool("pip install --index-url https://pypi.example/simple --extra-index-url https://x flask")
    assert [p.name for p in model.packages] == ["flask"]


def test_pip_cache_purge_and_uninstall():
    assert tool("pip cache purge").subcommand == "cache purge"
    assert [p.name for p in tool("pip uninstall -y setuptools").packages] == ["setuptools"]


def test_uv():
    model = tool("uv pip install --system --no-cache -r requirements.txt")
    assert (model.manager, model.subcommand) == ("uv", "pip install")
    assert model.has_flag("--no-cache") and [f.path for f in model.files] == ["requirements.txt"]
    sync = tool("uv sync --frozen --no-dev --no-install-project")
    assert sync.subcommand == "sync" and sync.implicit_files == ("pyproject.toml", "uv.lock")
    assert [f.path for f in tool("uv pip sync requirements.lock").files] == ["requirements.lock"]


def test_pipx_poetry_pipenv():
    assert [p.name for p in tool("pipx install poetry==1.8.2").packages] == ["poetry"]
    poetry = tool("poetry install --no-root --only main --no-interaction")
    assert (poetry.manager, poetry.subcommand) == ("poetry", "install")
    assert poetry.has_flag("--no-root") and poetry.flag("--only").value == "main"
    assert poetry.implicit_files == ("pyproject.toml", "poetry.lock")
    assert tool("poetry install --only=main").flag("--only").value == "main"
    assert tool("python -m poetry install").manager == "poetry"
    pipenv = tool("pipenv install --deploy --system")
    assert pipenv.implicit_files == ("Pipfile", "Pipfile.lock")
    assert tool("pipenv install flask").implicit_files == ()


# --- node --------------------------------------------------------------------------

def test_npm_ci_and_install():
    ci = tool("npm ci --omit=dev")
    assert (ci.manager, ci.subcommand) == ("npm", "ci")
    assert ci.flag("--omit").value == "dev"
    assert ci.implicit_files == ("package.json", "package-lock.json", "npm-shrinkwrap.json")
    assert tool("npm install --production").has_flag("--production")
    assert tool("npm i").subcommand == "install"
    assert tool("npm install --omit dev").flag("--omit").value == "dev"


def test_npm_global_packages_read_no_manifest():
    model = tool("npm install -g @angular/cli@17.3.0 pnpm")
    assert [(p.name, p.operator, p.version) for p in model.packages] == [
        ("@angular/cli", "@", "17.3.0"), ("pnpm", None, None)]
    assert model.implicit_files == ()


def test_npm_cache_clean():
    model = tool("npm cache clean --force")
    assert model.subcommand == "cache clean" and model.has_flag("--force")
    assert [w.text for w in model.subcommand_words] == ["cache", "clean"]


def test_yarn():
    bare = tool("yarn --frozen-lockfile")
    assert (bare.subcommand, bare.subcommand_words) == ("install", ())
    assert bare.has_flag("--frozen-lockfile") and bare.implicit_files == ("package.json", "yarn.lock")
    assert tool("yarn install --immutable").has_flag("--immutable")
    assert tool("yarn cache clean").subcommand == "cache clean"
    assert [p.name for p in tool("yarn global add @vue/cli").packages] == ["@vue/cli"]
    assert tool("yarn build").subcommand == "build"


def test_pnpm():
    model = tool("pnpm install --frozen-lockfile --prod")
    assert model.has_flag("--frozen-lockfile", "--prod")
    assert model.implicit_files == ("package.json", "pnpm-lock.yaml")
    assert tool("pnpm store prune").subcommand == "store prune"
    assert tool("pnpm i").subcommand == "install"
    assert tool("pnpm fetch --prod").implicit_files == ("pnpm-lock.yaml",)


# --- rpm, zypper, gem ------------------------------------------------------------------

@pytest.mark.parametrize("program", ["yum", "dnf", "microdnf", "tdnf"])
def test_rpm_family(program):
    script = parse_script(f"{program} install -y --setopt=tsflags=nodocs httpd mod_ssl && {program} clean all")
    install, clean = tool_commands(script)
    assert install.manager == program and install.subcommand == "install"
    assert [p.name for p in install.packages] == ["httpd", "mod_ssl"]
    assert install.flag("--setopt").value == "tsflags=nodocs"
    assert clean.subcommand == "clean" and [w.text for w in clean.operands] == ["all"]
    assert clean.packages == ()


def test_dnf_module_and_group():
    assert tool("dnf module enable -y nodejs:20").subcommand == "module enable"
    assert tool("yum groupinstall -y 'Development Tools'").subcommand == "group install"
    # a URL is installed like a package: it is kept as the package name, not as a local file
    remote = tool("dnf install -y https://x/epel-release-latest-9.noarch.rpm")
    assert [p.name for p in remote.packages] == ["https://x/epel-release-latest-9.noarch.rpm"]
    assert remote.files == ()


def test_zypper():
    model = tool("zypper --non-interactive in --no-recommends curl=8.0 gzip")
    assert (model.manager, model.subcommand) == ("zypper", "install")
    assert [f.name for f in model.global_flags] == ["--non-interactive"]
    assert [(p.name, p.operator, p.version) for p in model.packages] == [("curl", "=", "8.0"),
                                                                         ("gzip", None, None)]
    assert tool("zypper clean -a").subcommand == "clean"
    assert tool("zypper -n ref").subcommand == "refresh"


def test_gem():
    model = tool("gem install bundler -v 2.5.6 --no-document")
    assert model.has_flag("--no-document")
    assert [(p.name, p.operator, p.version) for p in model.packages] == [("bundler", "-v", "2.5.6")]
    old = tool("gem install rails --no-ri --no-rdoc")
    assert old.has_flag("--no-ri") and old.has_flag("--no-rdoc")
    assert [(p.name, p.version) for p in tool("gem install rake:13.0.6 -N").packages] == [("rake", "13.0.6")]


# --- go, ruby, java, php ----------------------------------------------------------------

def test_go():
    download = tool("go mod download")
    assert (download.manager, download.subcommand) == ("go", "mod download")
    assert download.implicit_files == ("go.mod", "go.sum")
    build = tool('CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/app ./cmd/app')
    assert build.subcommand == "build"
    assert build.flag("-o").value == "/out/app" and build.flag("-ldflags").value == "-s -w"
    assert [w.text for w in build.operands] == ["./cmd/app"]
    install = tool("go install github.com/go-delve/delve/cmd/dlv@v1.22.1")
    assert [(p.name, p.operator, p.version) for p in install.packages] == [
        ("github.com/go-delve/delve/cmd/dlv", "@", "v1.22.1")]


def test_bundle_mvn_composer():
    bundle = tool("bundle install --jobs 4 --retry 3 --without development test")
    assert bundle.subcommand == "install" and bundle.implicit_files == ("Gemfile", "Gemfile.lock")
    assert bundle.flag("--without").value == "development"
    assert tool("bundle config set --local without development").subcommand == "config set"
    mvn = tool("mvn -B -q -DskipTests -Pprod dependency:go-offline package")
    assert (mvn.manager, mvn.subcommand) == ("mvn", "dependency:go-offline")
    assert [w.text for w in mvn.operands] == ["dependency:go-offline", "package"]
    assert mvn.flag("-D").value == "skipTests" and mvn.flag("-P").value == "prod"
    assert mvn.implicit_files == ("pom.xml",)
    wrapper = tool("./mvnw -f backend/pom.xml package")
    assert wrapper.manager == "mvn" and [f.path for f in wrapper.files] == ["backend/pom.xml"]
    assert wrapper.implicit_files == ()
    composer = tool("composer install --no-dev --no-scripts --prefer-dist --optimize-autoloader")
    assert composer.subcommand == "install" and composer.has_flag("--no-dev")
    assert composer.implicit_files == ("composer.json", "composer.lock")
    assert [(p.name, p.operator, p.version) for p in tool("composer require monolog/monolog:^3.0").packages] \
        == [("monolog/monolog", ":", "^3.0")]


# --- what is not a tool ----------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "echo apt-get install x", "python3 app.py", "python -c 'import pip'", "make install",
    "$PIP install x", "curl -fsSL https://get.docker.com | sh",
])
def test_not_recognised(text):
    script = parse_script(text)
    assert [t for t in tool_commands(script) if t.command.name in ("echo", "python3", "python", "make")
            or t.command.name is None] == []
    assert parse_tool(script.commands[0]) is None


def test_tool_inside_if_and_subshell_is_still_found():
    script = parse_script("if [ -f requirements.txt ]; then pip install -r requirements.txt; fi && "
                          "(cd web && npm ci)")
    found = tool_commands(script)
    assert [(t.manager, t.subcommand) for t in found] == [("pip", "install"), ("npm", "ci")]
    assert found[0].command.in_conditional and found[1].command.in_subshell


def test_a_command_is_modelled_once_and_a_changed_copy_afresh():
    import dataclasses

    pip, echo = parse_script("pip install flask; echo hi").commands
    assert parse_tool(pip) is parse_tool(pip)  # asked by many rules, modelled once
    assert parse_tool(echo) is None and parse_tool(echo) is None
    npm = parse_script("npm ci").commands[0]
    changed = dataclasses.replace(pip, argv=npm.argv, name_index=npm.name_index)
    assert parse_tool(changed).manager == "npm"  # the memo is not carried over
    assert parse_tool(pip).manager == "pip"
