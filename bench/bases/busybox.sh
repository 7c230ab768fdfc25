#!/bin/bash
# Root file system of the busybox:latest stand-in, from Debian's busybox-static.
# Runs inside the debian:bookworm stand-in (bench/bases.py pipes it to
# `bash -s`); writes the root as a tar stream on stdout, everything else on
# stderr.  The official image is the same idea: /bin/busybox and its applets.
set -euo pipefail
exec 3>&1 1>&2
apt-get update -q
cd /tmp && apt-get download busybox-static
mkdir /deb /r && dpkg-deb -x busybox-static_*.deb /deb
install -D -m 0755 /deb/bin/busybox /r/bin/busybox
# every applet in /bin (as in the official image) and at its usual place too
# (/usr/bin/env, /sbin/ip, ...)
/r/bin/busybox --list-full | while read -r applet; do
    for p in "bin/${applet##*/}" "$applet"; do
        [ "$p" = bin/busybox ] || [ -e "/r/$p" ] || [ -L "/r/$p" ] && continue
        mkdir -p "/r/$(dirname "$p")"
        ln -s /bin/busybox "/r/$p"
    done
done
mkdir -p /r/etc/ssl/certs /r/root /r/home /r/tmp /r/var/spool/mail /r/var/www /r/dev /r/proc /r/sys
chmod 0700 /r/root; chmod 1777 /r/tmp
cat > /r/etc/passwd <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
P
cat > /r/etc/group <<'G'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
G
# not in the official image: the trust store bundle (with the host's CAs), so
# that `wget https://...` can be pointed at it
cp /etc/ssl/certs/ca-certificates.crt /r/etc/ssl/certs/
/r/bin/busybox >/dev/null
tar --numeric-owner --sort=name -C /r -cf - . >&3
