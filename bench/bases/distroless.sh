#!/bin/bash
# Root file system of the gcr.io/distroless stand-ins; $1 is "static" or "base".
# Runs inside the debian:bookworm stand-in (bench/bases.py pipes it to
# `bash -s -- VARIANT`); writes the root as a tar stream on stdout.
#   static: /etc/passwd (root, nobody, nonroot 65532), /etc/group, the CA
#           bundle (with the host's CAs), tzdata's zoneinfo, netbase's files,
#           /tmp, /home/nonroot.  No shell, no executables.
#   base:   static + glibc (libc6) and libssl3, still no shell.
set -euo pipefail
variant=${1:?variant}
exec 3>&1 1>&2
pkgs=(tzdata netbase)
case "$variant" in
    static) ;;
    base) pkgs+=(libc6 libssl3) ;;
    *) echo "unknown variant $variant" >&2; exit 2 ;;
esac
apt-get update -q
mkdir -p /debs /r && cd /debs && apt-get download "${pkgs[@]}"
for d in /debs/*.deb; do dpkg-deb -x "$d" /r; done
# keep copyright files (as distroless does), drop docs and every executable dir
find /r/usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find /r/usr/share/doc -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf /r/usr/share/man /r/usr/share/lintian /r/usr/share/locale /r/usr/share/bug \
       /r/bin /r/sbin /r/usr/bin /r/usr/sbin /r/usr/libexec /r/etc/init.d /r/etc/default
mkdir -p /r/etc/ssl/certs /r/tmp /r/root /r/home/nonroot /r/var/lib/dpkg
cp /etc/ssl/certs/ca-certificates.crt /r/etc/ssl/certs/
chmod 1777 /r/tmp; chmod 0700 /r/root /r/home/nonroot; chown 65532:65532 /r/home/nonroot
cat > /r/etc/passwd <<'P'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
P
cat > /r/etc/group <<'G'
root:x:0:
tty:x:5:
staff:x:50:
nonroot:x:65532:
nogroup:x:65534:
G
echo 'hosts: files dns' > /r/etc/nsswitch.conf
cat > /r/etc/os-release <<'O'
PRETTY_NAME="Distroless-like stand-in (Debian GNU/Linux 12)"
NAME="Debian GNU/Linux"
ID="debian"
VERSION_ID="12"
VERSION_CODENAME=bookworm
HOME_URL="https://github.com/GoogleContainerTools/distroless"
O
for f in sh bash dash busybox; do
    if find /r -name "$f" -type f | grep -q .; then echo "a shell ($f) slipped in" >&2; exit 1; fi
done
tar --numeric-owner --sort=name -C /r -cf - . >&3
