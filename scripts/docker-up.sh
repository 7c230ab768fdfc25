#!/usr/bin/env bash
# Make a Docker engine available, idempotently.
#
#  * If `docker info` already answers: exit 0 at once.
#  * Otherwise install docker.io (and debootstrap, which bench/bases.py needs)
#    from Debian with apt-get if they are missing, start dockerd in the
#    background with its log in $DOCKERD_LOG, and wait (at most
#    $DOCKER_UP_TIMEOUT seconds) until `docker info` answers.
#
# Works as root without a TTY (CI=true); as another user it uses sudo if it
# can.  Exit status: 0 when the engine answers, non-zero with a message on
# stderr otherwise.
set -euo pipefail

DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockerd.log}
DOCKER_UP_TIMEOUT=${DOCKER_UP_TIMEOUT:-60}

say() { printf 'docker-up: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

docker_ok() { command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1; }

dockerd_pids() {
    if command -v pgrep >/dev/null 2>&1; then
        pgrep -x dockerd
    elif command -v pidof >/dev/null 2>&1; then
        pidof dockerd
    elif [ -f /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
        cat /var/run/docker.pid
    else
        return 1
    fi
}

if docker_ok; then
    say "docker engine already answering"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    die "docker is not answering and this script needs root (or password-less sudo) to install/start it"
fi

# --- install what is missing -------------------------------------------------
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
    # de-duplicate
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and apt-get is not available to install them"
    say "installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -q >&2 || die "apt-get update failed"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
        || die "apt-get install ${missing[*]} failed"
fi
command -v dockerd >/dev/null 2>&1 || die "dockerd not found even after installing docker.io"

# --- start dockerd unless one is already starting ---------------------------
if pids=$(dockerd_pids 2>/dev/null); then
    say "a dockerd is already running (pid $(echo $pids)); waiting for it to answer"
else
    # A pid file left by a dead dockerd would make the new one refuse to start.
    if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid 2>/dev/null)" 2>/dev/null; then
        "${SUDO[@]}" rm -f /var/run/docker.pid
    fi
    "${SUDO[@]}" mkdir -p "$(dirname "$DOCKERD_LOG")"
    say "starting dockerd (log: $DOCKERD_LOG)"
    # setsid + nohup: detach from this shell's session and process group so
    # the daemon outlives the caller; no stdin.
    "${SUDO[@]}" setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
fi

# --- wait until it answers ----------------------------------------------------
deadline=$((SECONDS + DOCKER_UP_TIMEOUT))
until docker_ok; do
    if [ $SECONDS -ge $deadline ]; then
        say "last lines of $DOCKERD_LOG:"
        tail -n 30 "$DOCKERD_LOG" >&2 2>/dev/null || true
        die "dockerd did not answer 'docker info' within ${DOCKER_UP_TIMEOUT}s"
    fi
    if ! dockerd_pids >/dev/null 2>&1; then
        sleep 1
        if ! dockerd_pids >/dev/null 2>&1 && ! docker_ok; then
            say "last lines of $DOCKERD_LOG:"
            tail -n 30 "$DOCKERD_LOG" >&2 2>/dev/null || true
            die "dockerd exited during start-up"
        fi
    fi
    sleep 1
done
say "docker engine is up ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
