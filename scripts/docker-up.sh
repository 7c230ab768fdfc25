#!/usr/bin/env bash
# Provide a Docker Engine >= 26 with the buildx plugin >= 0.13, idempotently, and say how to reach it.
#
#   eval "$(bash scripts/docker-up.sh)"      # sets DOCKER_HOST for this shell
#
# 1. An engine that already answers (at $DOCKER_HOST, else at this script's own socket, else at
#    the default socket) with Engine >= 26 while `docker buildx` >= 0.13 works is used as it is.
# 2. Otherwise, the route that works on a Debian 12 machine, which packages neither: Debian 13
#    ("trixie") is bootstrapped into $DOCKOPT_ENGINE_ROOT (docker.io, docker-cli, docker-buildx),
#    and dockerd runs from a chroot of it with a socket, data root, exec root, pid file and bridge
#    of its own, so it can run beside any other engine. The buildx plugin of that root is linked
#    into ~/.docker/cli-plugins, and when the host has no docker CLI, the root's is linked into
#    $DOCKOPT_CLI_DIR (both run on the host: they need glibc >= 2.34, Debian 12 has 2.36).
#    Whatever an earlier start left behind (mounts, a pid file, the daemon's containerd) is
#    reused or cleared; a daemon of this instance that does not answer is restarted.
#
# stdout: one line, `export DOCKER_HOST=...`; progress and errors go to stderr. Exit status 0
# when the engine answers, 1 with the reason (and the daemon log's last lines) otherwise.
# Needs root (or password-less sudo) for anything beyond step 1.
set -euo pipefail

ROOT=$(readlink -m "${DOCKOPT_ENGINE_ROOT:-/var/lib/dockopt-engine/root}")
RUN_DIR=${DOCKOPT_ENGINE_RUN:-/run/dockopt-engine}       # host directory, bound into ROOT at the same path
SOCK=$RUN_DIR/docker.sock
PIDFILE=$RUN_DIR/dockerd.pid
LOG=${DOCKOPT_ENGINE_LOG:-/var/log/dockopt-engine.log}
DATA=${DOCKOPT_ENGINE_DATA:-/var/lib/docker}             # inside ROOT
EXEC=${DOCKOPT_ENGINE_EXEC:-/run/docker-exec}            # inside ROOT
BRIDGE=${DOCKOPT_ENGINE_BRIDGE:-dockopt0}
BRIDGE_CIDR=${DOCKOPT_ENGINE_CIDR:-172.31.240.1/24}
SUITE=trixie
PACKAGES=docker.io,docker-cli,docker-buildx,ca-certificates,iptables
CLI_DIR=${DOCKOPT_CLI_DIR:-/usr/local/bin}
PLUGIN_DIR=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
TIMEOUT=${DOCKER_UP_TIMEOUT:-90}
MIN_ENGINE=26
MIN_BUILDX=0.13

say() { printf 'docker-up: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# --- checks -----------------------------------------------------------------------------------

version_ge() {   # version_ge 26.1.5+dfsg1 26  ->  true when the first is at least the second
    local have want
    have=$(printf '%s' "$1" | grep -oE '^[0-9]+(\.[0-9]+)*' || true)
    want=$2
    [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1)" = "$want" ]
}

engine_version() {   # engine_version HOST -> the server version, or nothing
    command -v docker >/dev/null 2>&1 || return 1
    DOCKER_HOST=$1 timeout 20 docker version --format '{{.Server.Version}}' 2>/dev/null
}

buildx_version() {
    command -v docker >/dev/null 2>&1 || return 1
    timeout 20 docker buildx version 2>/dev/null | grep -oE ' v?[0-9]+\.[0-9]+\.[0-9]+' | head -n1 | tr -d ' v'
}

engine_ok() {   # engine_ok HOST: an engine >= MIN_ENGINE answers there and buildx >= MIN_BUILDX works
    local server bx
    server=$(engine_version "$1") || return 1
    version_ge "$server" "$MIN_ENGINE" || { say "the engine at $1 is $server, older than $MIN_ENGINE"; return 1; }
    bx=$(buildx_version) || return 1
    version_ge "$bx" "$MIN_BUILDX" || { say "docker buildx is ${bx:-missing}, older than $MIN_BUILDX"; return 1; }
    ENGINE_VERSION=$server BUILDX_VERSION=$bx
}

announce() {
    say "Docker Engine $ENGINE_VERSION with buildx $BUILDX_VERSION answers at $1"
    say "point docker clients at it with: export DOCKER_HOST=$1"
    printf 'export DOCKER_HOST=%s\n' "$1"
}

# --- step 1: an engine that already answers ---------------------------------------------------

use_answering() {   # announce and exit when an engine of the right version already answers
    local candidate
    for candidate in "${DOCKER_HOST:-}" "unix://$SOCK" "unix:///var/run/docker.sock"; do
        if [ -n "$candidate" ] && engine_ok "$candidate"; then
            announce "$candidate"
            exit 0
        fi
    done
}

find_root_access() {   # sets SUDO, or stops: everything beyond step 1 needs root
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=()
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        die "no Docker Engine >= $MIN_ENGINE with buildx >= $MIN_BUILDX answers, and setting one up needs root (or password-less sudo)"
    fi
}
as_root() { "${SUDO[@]}" "$@"; }

# --- step 2: the root file system ---------------------------------------------------------------

host_mirror() {   # the Debian mirror the host's apt uses (deb822 or one-line sources)
    local uri
    uri=${DOCKOPT_DEBIAN_MIRROR:-}
    if [ -z "$uri" ]; then
        uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2}' | grep -E '/debian/?$' | head -n1 || true)
    fi
    if [ -z "$uri" ]; then
        uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
              | awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' \
              | grep -E '/debian/?$' | head -n1 || true)
    fi
    printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

apt_install_host() {
    command -v apt-get >/dev/null 2>&1 || die "$* missing, and apt-get is not there to install it"
    say "installing $* on the host with apt-get"
    as_root apt-get update -q >&2 || die "apt-get update failed"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 \
        || die "apt-get install $* failed"
}

bootstrap_root() {
    command -v debootstrap >/dev/null 2>&1 || apt_install_host debootstrap
    local mirror partial
    mirror=$(host_mirror)
    partial=$ROOT.partial
    if [ -e "$partial" ]; then
        say "removing $partial, left by an interrupted bootstrap"
        as_root rm -rf --one-file-system "$partial"
    fi
    as_root mkdir -p "$(dirname "$ROOT")"
    say "debootstrap $SUITE into $ROOT from $mirror (packages: $PACKAGES); this takes a few minutes"
    as_root debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$partial" "$mirror" >&2 \
        || die "debootstrap of $SUITE failed (log: $partial/debootstrap/debootstrap.log)"
    as_root mv "$partial" "$ROOT"
}

in_root() { as_root chroot "$ROOT" "$@"; }

ensure_root() {
    if [ ! -x "$ROOT/usr/sbin/dockerd" ]; then
        [ -e "$ROOT" ] && [ -n "$(ls -A "$ROOT" 2>/dev/null)" ] \
            && die "$ROOT exists but has no dockerd: move it away (or set DOCKOPT_ENGINE_ROOT)"
        bootstrap_root
    fi
    local missing=()
    [ -e "$ROOT/usr/libexec/docker/cli-plugins/docker-buildx" ] || missing+=(docker-buildx)
    if ! command -v docker >/dev/null 2>&1 && [ ! -x "$ROOT/usr/bin/docker" ]; then
        missing+=(docker-cli)
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]} into $ROOT"
        mount_root
        sync_resolv_conf
        in_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || die "apt-get update in $ROOT failed"
        in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
            || die "apt-get install ${missing[*]} in $ROOT failed"
    fi
}

ensure_clients() {
    if ! command -v docker >/dev/null 2>&1; then
        as_root mkdir -p "$CLI_DIR"
        as_root ln -sfn "$ROOT/usr/bin/docker" "$CLI_DIR/docker"
        hash -r
        command -v docker >/dev/null 2>&1 || die "linked $CLI_DIR/docker, but $CLI_DIR is not on PATH"
        docker --version >/dev/null 2>&1 || die "the docker CLI of $ROOT does not run on this host"
        say "linked the docker CLI of $ROOT into $CLI_DIR ($(docker --version))"
    fi
    local bx
    bx=$(buildx_version || true)
    if [ -z "$bx" ] || ! version_ge "$bx" "$MIN_BUILDX"; then
        mkdir -p "$PLUGIN_DIR"
        ln -sfn "$ROOT/usr/libexec/docker/cli-plugins/docker-buildx" "$PLUGIN_DIR/docker-buildx"
        bx=$(buildx_version || true)
        [ -n "$bx" ] && version_ge "$bx" "$MIN_BUILDX" \
            || die "linked the buildx plugin of $ROOT into $PLUGIN_DIR, but \`docker buildx version\` gives '${bx:-nothing}'"
        say "linked the buildx plugin $bx of $ROOT into $PLUGIN_DIR"
    fi
}

# --- step 3: the daemon -----------------------------------------------------------------------

mount_once() {   # mount_once TARGET ARGS...: mount unless TARGET already is a mount point
    local target=$1
    shift
    mountpoint -q "$target" && return 0
    as_root mkdir -p "$target"
    as_root mount "$@" "$target" || die "mount $* $target failed"
}

mount_root() {
    # dockerd re-mounts / inside its root when it loads images: / must be a mount point there
    mount_once "$ROOT" --bind "$ROOT"
    mount_once "$ROOT/proc" -t proc proc
    mount_once "$ROOT/sys" --rbind /sys
    as_root mount --make-rslave "$ROOT/sys"
    mount_once "$ROOT/dev" --rbind /dev
    as_root mount --make-rslave "$ROOT/dev"
    as_root mkdir -p "$RUN_DIR"
    mount_once "$ROOT$RUN_DIR" --bind "$RUN_DIR"
}

sync_resolv_conf() {   # the daemon and its containers resolve names as the host does
    if [ -f /etc/resolv.conf ] && ! cmp -s /etc/resolv.conf "$ROOT/etc/resolv.conf"; then
        as_root rm -f "$ROOT/etc/resolv.conf"
        as_root cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
    fi
}

ensure_bridge() {
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
        as_root ip link add "$BRIDGE" type bridge || die "cannot create the bridge $BRIDGE"
    fi
    # the listing is read whole before it is searched: with pipefail, `ip ... | grep -q` fails
    # whenever grep quits at the first match while ip still writes (ip then dies of SIGPIPE)
    local addrs
    addrs=$(ip -o addr show dev "$BRIDGE")
    if ! grep -qF " ${BRIDGE_CIDR} " <<<"$addrs"; then
        as_root ip addr add "$BRIDGE_CIDR" dev "$BRIDGE" || die "cannot give $BRIDGE the address $BRIDGE_CIDR"
    fi
    as_root ip link set "$BRIDGE" up
}

# Processes of this instance: running from ROOT, and naming our socket (dockerd) or exec root
# (its containerd and the shims of its containers). Other engines from the same root differ.
instance_pids() {   # instance_pids NEEDLE
    local dir pid cmdline
    for dir in /proc/[0-9]*; do
        pid=${dir#/proc/}
        [ "$(readlink "$dir/root" 2>/dev/null)" = "$ROOT" ] || continue
        cmdline=$(tr '\0' ' ' <"$dir/cmdline" 2>/dev/null) || continue
        grep -qF -- "$1" <<<"$cmdline" && printf '%s\n' "$pid"
    done
    return 0
}

stop_pids() {   # SIGTERM, then SIGKILL what is left after 10 s
    [ $# -gt 0 ] || return 0
    as_root kill -TERM "$@" 2>/dev/null || true
    for _ in $(seq 1 20); do
        kill -0 "$@" 2>/dev/null || return 0
        sleep 0.5
    done
    as_root kill -KILL "$@" 2>/dev/null || true
}

start_daemon() {
    local daemon stale
    mapfile -t daemon < <(instance_pids "unix://$SOCK")
    if [ ${#daemon[@]} -gt 0 ]; then
        say "dockerd (pid ${daemon[*]}) runs for $SOCK; waiting for it to answer"
        wait_for_engine 30 && return 0
        say "it does not answer: restarting it"
        stop_pids "${daemon[@]}"
    fi
    # left by a daemon that died: its containerd and shims, its pid file
    mapfile -t stale < <(instance_pids "$EXEC/")
    if [ ${#stale[@]} -gt 0 ]; then
        say "stopping what a dead dockerd of $SOCK left running (pids ${stale[*]})"
        stop_pids "${stale[@]}"
    fi
    as_root rm -f "$PIDFILE" "$ROOT$EXEC/containerd/containerd.pid"
    as_root mkdir -p "$(dirname "$LOG")"
    say "starting dockerd from $ROOT (socket $SOCK, data root $ROOT$DATA, log $LOG)"
    # setsid + nohup: the daemon outlives this script and its terminal
    as_root setsid nohup chroot "$ROOT" /usr/sbin/dockerd --host "unix://$SOCK" --data-root "$DATA" \
        --exec-root "$EXEC" --pidfile "$PIDFILE" --bridge "$BRIDGE" >>"$LOG" 2>&1 </dev/null &
    wait_for_engine "$TIMEOUT" || {
        say "last lines of $LOG:"
        tail -n 30 "$LOG" >&2 || true
        die "dockerd did not answer at unix://$SOCK within ${TIMEOUT}s"
    }
}

wait_for_engine() {   # wait_for_engine SECONDS
    local start=$SECONDS deadline=$((SECONDS + $1))
    while [ $SECONDS -lt $deadline ]; do
        engine_version "unix://$SOCK" >/dev/null && return 0
        if [ $((SECONDS - start)) -ge 5 ] && [ -z "$(instance_pids "unix://$SOCK")" ]; then
            say "dockerd exited; last lines of $LOG:"
            tail -n 30 "$LOG" >&2 || true
            die "dockerd of $ROOT did not stay up"
        fi
        sleep 1
    done
    return 1
}

# sourcing the script (as its tests do) defines the functions and starts nothing
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0

use_answering
find_root_access
ensure_root
ensure_clients
use_answering        # (an engine may only have lacked the client's buildx plugin)
mount_root
sync_resolv_conf
ensure_bridge
start_daemon
engine_ok "unix://$SOCK" || die "the engine at unix://$SOCK answers but is not Docker >= $MIN_ENGINE with buildx >= $MIN_BUILDX"
announce "unix://$SOCK"
