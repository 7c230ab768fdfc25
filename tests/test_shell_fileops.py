"""rm, chown/chgrp and chmod models (cleanup detection, chown -R after COPY)."""
from __future__ import annotations

import pytest

from dockopt.shell import parse_chmod, parse_chown, parse_rm, parse_script


def first(text: str):
    return parse_script(text).commands[0]


def test_rm_apt_lists():
    script = parse_script("apt-get update && apt-get install -y x && rm -rf /var/lib/apt/lists/*")
    rm = parse_rm(script.commands[-1])
    assert rm.recursive and rm.force
    assert rm.path_texts == ("/var/lib/apt/lists/*",)
    assert script.text[rm.paths[0].start:rm.paths[0].end] == "/var/lib/apt/lists/*"


@pytest.mark.parametrize(("text", "recursive", "force", "paths"), [
    ("rm -rf /tmp/* /var/tmp/*", True, True, ("/tmp/*", "/var/tmp/*")),
    ("rm -fr ~/.cache/pip", True, True, ("~/.cache/pip",)),
    ("rm -r -f build", True, True, ("build",)),
    ("rm --recursive --force node_modules", True, True, ("node_modules",)),
    ("rm -f /etc/nginx/conf.d/default.conf", False, True, ("/etc/nginx/conf.d/default.conf",)),
    ("rm -- -weird-name", False, False, ("-weird-name",)),
    ("sudo rm -Rf /root/.npm", True, True, ("/root/.npm",)),
])
def test_rm_variants(text, recursive, force, paths):
    rm = parse_rm(first(text))
    assert (rm.recursive, rm.force, rm.path_texts) == (recursive, force, paths)


def test_rm_dynamic_path_is_kept_without_text():
    rm = parse_rm(first('rm -rf "$HOME/.cache"'))
    assert rm.path_texts == (None,) and rm.paths[0].raw == '"$HOME/.cache"'


def test_not_rm():
    assert parse_rm(first("echo rm -rf /")) is None
    assert parse_chown(first("ls")) is None
    assert parse_chmod(first("ls")) is None


@pytest.mark.parametrize(("text", "recursive", "owner", "group", "targets"), [
    ("chown -R node:node /app", True, "node", "node", ("/app",)),
    ("chown -R 1000:1000 /app /data", True, "1000", "1000", ("/app", "/data")),
    ("chown www-data /var/www", False, "www-data", None, ("/var/www",)),
    ("chown :staff /srv", False, None, "staff", ("/srv",)),
    ("chown app: /srv", False, "app", "", ("/srv",)),
    ("chown --recursive app.app /srv", True, "app", "app", ("/srv",)),
    ("chgrp -R 0 /opt/app", True, None, "0", ("/opt/app",)),
])
def test_chown(text, recursive, owner, group, targets):
    model = parse_chown(first(text))
    assert model.recursive is recursive
    assert (model.owner, model.group) == (owner, group)
    assert tuple(w.text for w in model.targets) == targets


def test_chown_reference_and_dynamic_owner():
    model = parse_chown(first("chown --reference=/etc/passwd /x"))
    assert model.reference == "/etc/passwd" and model.spec_word is None
    assert [w.text for w in model.targets] == ["/x"]
    dynamic = parse_chown(first('chown -R "$APP_USER:$APP_USER" /app'))
    assert dynamic.owner is None and dynamic.spec_word.raw == '"$APP_USER:$APP_USER"'


def test_chown_after_copy_typical_run():
    script = parse_script("chown -R appuser:appgroup /home/appuser/app && chmod -R g=u /home/appuser/app")
    chown = parse_chown(script.commands[0])
    chmod = parse_chmod(script.commands[1])
    assert chown.recursive and chown.owner == "appuser"
    assert chmod.recursive and chmod.mode == "g=u" and not chmod.is_numeric
    assert script.text[chown.command.start:chown.command.end] == "chown -R appuser:appgroup /home/appuser/app"


@pytest.mark.parametrize(("text", "recursive", "mode", "targets"), [
    ("chmod +x /usr/local/bin/entrypoint.sh", False, "+x", ("/usr/local/bin/entrypoint.sh",)),
    ("chmod -R 755 /app", True, "755", ("/app",)),
    ("chmod 0644 a b", False, "0644", ("a", "b")),
    ("chmod -x script.sh", False, "-x", ("script.sh",)),          # a mode, not an option
    ("chmod -R -w,u+x dir", True, "-w,u+x", ("dir",)),
    ("chmod u+rwx,g-w,o= f", False, "u+rwx,g-w,o=", ("f",)),
    ("chmod --recursive a+rX /srv", True, "a+rX", ("/srv",)),
    ("chmod -v 600 key", False, "600", ("key",)),
])
def test_chmod(text, recursive, mode, targets):
    model = parse_chmod(first(text))
    assert model.recursive is recursive
    assert model.mode == mode
    assert tuple(w.text for w in model.targets) == targets


def test_chmod_numeric_and_reference():
    assert parse_chmod(first("chmod 755 x")).is_numeric
    model = parse_chmod(first("chmod --reference=a b"))
    assert model.reference == "a" and model.mode is None and [w.text for w in model.targets] == ["b"]
