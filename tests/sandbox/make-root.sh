#!/bin/bash
# make-root.sh RELEASE
#
# Makes, once, a Debian root of RELEASE (trixie: Postfix 3.10; sid: 3.11)
# with Postfix and what the side-by-side harness's driver and the tests'
# scripts use, for POSTMULTI_REFERENCE=RELEASE (tests/README.md).  The root
# is cached outside the repository, in ${POSTMULTI_ROOTS:-/var/cache/postmulti-test-roots}/RELEASE,
# and only ever used as the read-only lower layer of the tests' sandboxes.
# A root already there is only brought up to date with the settings below
# (prints its path and exits 0); remove it to make a new one.  It is built in RELEASE.new and renamed when complete,
# so a failed or interrupted run never leaves a half root behind: it exits
# non-zero and says why.  The mirror is the one apt uses on this host.  Root.
set -euo pipefail
release=${1:?usage: make-root.sh RELEASE (trixie, sid)}
case $release in
*[!a-z0-9-]* | "") echo "make-root.sh: bad release name: $release" >&2; exit 2 ;;
esac
roots=${POSTMULTI_ROOTS:-/var/cache/postmulti-test-roots}
dest=$roots/$release

# Settings of a root, applied to a new one and to one made by an earlier
# version of this script.  Debian's own chroot sync
# (/usr/lib/postfix/configure-instance.sh, run from post-install since
# Debian 13) prints "updating FILE => DIR" on every create and start; it is
# Debian's packaging, not Postfix (Debian 12 runs it only from its service
# unit), so it is off here, as it is in the host's sandboxes.
settings='SYNC_CHROOT=""  # tests/sandbox/make-root.sh: no chroot sync in the test sandboxes'
configure() {
    if [ "$(cat "$1/etc/default/postfix" 2>/dev/null)" != "$settings" ]; then
        mkdir -p "$1/etc/default"
        printf '%s\n' "$settings" >"$1/etc/default/postfix"
    fi
}
# systemd, for tests/systemd.rs, which boots it in a copy-on-write of the
# root (tests/sandbox/boot-systemd.sh).  Unstable's postfix pulls it in
# anyway (the first alternative of its sysusers and tmpfiles dependencies);
# trixie's does not.  Installed, it changes nothing for the other tests:
# Debian 13's postfix-script redirects `postfix start` to systemctl only
# when /run/systemd/system exists, which only a booted systemd makes (the
# root's /run has no such directory, and no unit runs in a sandbox without
# one).  A root made before systemd was in the list gets it here, with
# apt-get in the root (the mirror of its sources), under the lock below.
has_systemd() { [ -x "$1/lib/systemd/systemd" ] || [ -x "$1/usr/lib/systemd/systemd" ]; }
add_systemd() {
    has_systemd "$1" && return 0
    echo "make-root.sh: installing systemd into $1" >&2
    if ! unshare --mount --fork -- bash -c '
        set -e
        mount --make-rprivate /
        mount -t proc proc "$1/proc"
        mount --rbind /dev "$1/dev"
        export DEBIAN_FRONTEND=noninteractive LC_ALL=C
        chroot "$1" apt-get update -q
        chroot "$1" apt-get install -y -q --no-install-recommends systemd
        chroot "$1" apt-get clean
    ' make-root.sh "$1" >>"$roots/$release.log" 2>&1; then
        echo "make-root.sh: installing systemd into $1 failed; the end of $roots/$release.log:" >&2
        tail -n 20 "$roots/$release.log" >&2
        return 1
    fi
    if [ -d "$1/run/systemd/system" ]; then
        echo "make-root.sh: $1/run/systemd/system exists after installing systemd" >&2
        return 1
    fi
}
# A root already made: brought up to date with the settings above.
update() {
    configure "$1"
    add_systemd "$1"
}
if [ -e "$dest/var/lib/dpkg/info/postfix.md5sums" ] && has_systemd "$dest"; then
    configure "$dest"
    echo "$dest"
    exit 0
fi
[ "$(id -u)" = 0 ] || { echo "make-root.sh: needs root (debootstrap, apt-get in the root)" >&2; exit 1; }

# The Debian mirror apt uses here (deb822 or one-line sources).
mirror=$(
    { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ { print $2 }'
      cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }'
    } | grep -v -- '-security' | grep '/debian/*$' | head -n1
) || true
mirror=${mirror:-http://deb.debian.org/debian}

# What the driver (tests/common/driver.rs) and the tests' scripts run inside
# the root, besides the essential set: Postfix, pgrep/pkill (procps),
# python3, ip, setfattr/getfattr (attr), script (bsdutils), fuser (psmisc).
# systemd: above.
include=postfix,procps,python3,iproute2,attr,util-linux,bsdutils,psmisc,systemd

mkdir -p "$roots"
exec 9>"$roots/.$release.lock"
flock 9
if [ -e "$dest/var/lib/dpkg/info/postfix.md5sums" ]; then
    update "$dest"
    echo "$dest"
    exit 0
fi
command -v debootstrap >/dev/null || { echo "make-root.sh: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
tmp=$dest.new
rm -rf "$tmp"
log=$roots/$release.log
echo "make-root.sh: debootstrap $release from $mirror into $tmp (log: $log)" >&2
if ! DEBIAN_FRONTEND=noninteractive debootstrap --variant=minbase --include="$include" \
        "$release" "$tmp" "$mirror" >"$log" 2>&1; then
    echo "make-root.sh: debootstrap $release from $mirror failed; the end of $log:" >&2
    tail -n 20 "$log" >&2
    rm -rf "$tmp"
    exit 1
fi
has_systemd "$tmp" || { echo "make-root.sh: the $release root has no systemd" >&2; rm -rf "$tmp"; exit 1; }
# Postfix's own mail_version, as the tests read it.
version=$(chroot "$tmp" /usr/sbin/postconf -h mail_version) || {
    echo "make-root.sh: the $release root has no working postconf" >&2; rm -rf "$tmp"; exit 1; }
awk '$2 == "usr/sbin/postmulti"' "$tmp/var/lib/dpkg/info/postfix.md5sums" | grep -q . || {
    echo "make-root.sh: the $release root's postfix.md5sums lists no usr/sbin/postmulti" >&2; rm -rf "$tmp"; exit 1; }
# No cached packages: the root is only a lower layer.
rm -rf "$tmp"/var/cache/apt/archives/*.deb
configure "$tmp"
mv -T "$tmp" "$dest"
echo "make-root.sh: $dest: Postfix $version" >&2
echo "$dest"
