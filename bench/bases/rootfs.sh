#!/usr/bin/env bash
# Build the Debian root file systems the stand-in images start from.
# Run by bench/bases.py (as root) with these variables set:
#   ROOT       scratch directory for the root (wiped first, removed at the end)
#   SUITE      Debian suite (bookworm)
#   MIRROR     Debian mirror for debootstrap
#   SOURCES    file to install as /etc/apt/sources.list.d/debian.sources
#   APTCONF    file with extra apt settings from the host (may be empty)
#   CA_DIR     directory whose *.crt files join the trust store
#   DEB_CACHE  debootstrap's download cache (kept between runs)
#   OUT_FULL   tarball to write for debian:<suite>
#   OUT_SLIM   tarball to write for debian:<suite>-slim
# The result mirrors what debuerreotype does for the official images:
# minbase + apt/dpkg settings for containers (+ "slimify" for -slim), plus
# ca-certificates with the host's CAs, the host's apt sources, and the updates
# of SUITE-updates/SUITE-security applied.
set -euo pipefail

: "${ROOT:?}" "${SUITE:?}" "${MIRROR:?}" "${SOURCES:?}" "${APTCONF:?}" "${CA_DIR:?}" \
  "${DEB_CACHE:?}" "${OUT_FULL:?}" "${OUT_SLIM:?}"

die() { echo "rootfs.sh: ERROR: $*" >&2; exit 1; }
step() { echo "== [${SECONDS}s] $*"; }

# Never rm -rf a tree that has something mounted inside (debootstrap mounts
# /proc, /sys and sometimes binds /dev while it works).
assert_unmounted() {
    local r
    r=$(readlink -f "$ROOT")
    if awk -v r="$r" '$2 == r || index($2, r "/") == 1 { found=1 } END { exit !found }' /proc/mounts; then
        die "something is still mounted under $r; unmount it first"
    fi
}

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap and chroot need it)"
command -v debootstrap >/dev/null || die "debootstrap is not installed (run scripts/docker-up.sh or apt-get install debootstrap)"

if [ -e "$ROOT" ]; then assert_unmounted; rm -rf "$ROOT"; fi
mkdir -p "$ROOT" "$DEB_CACHE" "$(dirname "$OUT_FULL")" "$(dirname "$OUT_SLIM")"

step "debootstrap --variant=minbase $SUITE ($MIRROR)"
debootstrap --variant=minbase --include=ca-certificates --cache-dir="$(readlink -f "$DEB_CACHE")" \
    "$SUITE" "$ROOT" "$MIRROR"
assert_unmounted

step "container settings (as debuerreotype-minimizing-config)"
cat > "$ROOT/usr/sbin/policy-rc.d" <<'EOF'
#!/bin/sh
# For most Docker users, "apt-get install" only happens during "docker build",
# where starting services doesn't work and often fails in humorous ways. This
# prevents those failures by stopping the services from attempting to start.
exit 101
EOF
chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
mkdir -p "$ROOT/etc/dpkg/dpkg.cfg.d" "$ROOT/etc/apt/apt.conf.d"
echo 'force-unsafe-io' > "$ROOT/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
cat > "$ROOT/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
echo 'Apt::AutoRemove::SuggestsImportant "false";' > "$ROOT/etc/apt/apt.conf.d/docker-autoremove-suggests"
echo 'Acquire::GzipIndexes "true";' > "$ROOT/etc/apt/apt.conf.d/docker-gzip-indexes"
echo 'Acquire::Languages "none";' > "$ROOT/etc/apt/apt.conf.d/docker-no-languages"

step "apt sources and settings from the host"
rm -f "$ROOT/etc/apt/sources.list"
install -m 0644 "$SOURCES" "$ROOT/etc/apt/sources.list.d/debian.sources"
if [ -s "$APTCONF" ]; then
    install -m 0644 "$APTCONF" "$ROOT/etc/apt/apt.conf.d/90dockopt-host"
fi

step "host CA certificates"
shopt -s nullglob
crts=("$CA_DIR"/*.crt)
shopt -u nullglob
for c in "${crts[@]}"; do
    install -m 0644 "$c" "$ROOT/usr/local/share/ca-certificates/$(basename "$c")"
done
chroot "$ROOT" update-ca-certificates --fresh >/dev/null
echo "trust store: $(grep -c 'BEGIN CERTIFICATE' "$ROOT/etc/ssl/certs/ca-certificates.crt") certificates (${#crts[@]} from the host)"

step "security and point-release updates (bookworm-updates, bookworm-security)"
[ -s "$ROOT/etc/resolv.conf" ] || cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
chroot "$ROOT" apt-get update -q
chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade
chroot "$ROOT" apt-get clean

step "clean-up"
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/cache/apt/archives/partial/* \
       "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/lib/apt/lists/* \
       "$ROOT"/var/cache/debconf/*-old "$ROOT"/var/lib/dpkg/*-old \
       "$ROOT"/var/log/apt/* "$ROOT"/var/log/*.log "$ROOT"/tmp/* "$ROOT"/var/tmp/* \
       "$ROOT"/root/.bash_history
mkdir -p "$ROOT/var/lib/apt/lists/partial"
# docker provides these at run time
rm -f "$ROOT/etc/resolv.conf" "$ROOT/etc/hostname" "$ROOT/etc/hosts"
: > "$ROOT/etc/machine-id"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$ROOT/etc/hosts"

pack() {  # pack OUT
    local tmp="$1.tmp"
    tar --numeric-owner --sort=name --xattrs --xattrs-include='security.capability' \
        --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' --exclude='./run/*' \
        -C "$ROOT" -cf "$tmp" .
    mv -f "$tmp" "$1"
    echo "wrote $1 ($(du -h "$1" | cut -f1))"
}

step "pack debian:$SUITE"
assert_unmounted
pack "$OUT_FULL"

step "slimify (as debuerreotype-slimify) and pack debian:$SUITE-slim"
cat > "$ROOT/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
# This is the "slim" variant of the Debian base image.
# Many files which are normally unnecessary in containers are excluded,
# and this configuration file keeps them that way.

path-exclude /usr/share/doc/*
# we need to keep copyright files for legal reasons
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
find "$ROOT/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$ROOT/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$ROOT"/usr/share/groff/* "$ROOT"/usr/share/info/* "$ROOT"/usr/share/linda/* \
       "$ROOT"/usr/share/lintian/* "$ROOT"/usr/share/locale/* "$ROOT"/usr/share/man/*
pack "$OUT_SLIM"

assert_unmounted
rm -rf "$ROOT"
