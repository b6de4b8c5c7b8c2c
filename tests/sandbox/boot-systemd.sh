#!/bin/bash
# boot-systemd.sh WORKDIR
#
# Boots systemd as PID 1 in a sandbox of tests/sandbox/enter.sh (the host's
# root, or SANDBOX_ROOT's, copy-on-write; SANDBOX_SHARE as there) and
# returns when WORKDIR/done appears (written from inside when the work is
# done: the namespace is then killed, exit status 0) or systemd exits (its
# status), or after BOOT_TIMEOUT seconds (default 300: the namespace is
# killed, exit status 124).
#
# - The namespaces are enter.sh's (mount, pid, net with loopback only, uts)
#   plus ipc and cgroup.  Before the cgroup namespace is made, the process
#   that makes it is moved into a new cgroup of the host's cgroup2
#   hierarchy (postmulti-test-PID, under this script's own; the hierarchy
#   is mounted on WORKDIR/cgroup2 for the time of the boot where the host
#   has it nowhere), which is then
#   the namespace's root: every unit of the booted systemd lives below it,
#   and it is removed when the namespace is gone.  Inside, that hierarchy
#   is mounted alone on /sys/fs/cgroup: systemd 256 and later refuse cgroup
#   v1, and accept a cgroup2 without controllers (the host's controllers
#   may stay bound to v1).
# - /run is a fresh tmpfs; /dev is enter.sh's, plus /dev/console: a bind
#   mount of WORKDIR/console, which is also systemd's stdout and stderr.
# - The journal is volatile (/run/log/journal), the host name is
#   sandbox.example (/etc/hostname), console-getty.service is masked, and
#   timers.target: the root's periodic jobs (apt-daily, man-db, ...) never
#   start in the middle of a test.
# - WORKDIR/setup.sh, when it exists, runs first (bash, chrooted, as the
#   namespace's PID 1, with OURS, REPO and DEB from the environment): it
#   installs packages and units, and can link default.target.
# - systemd is exec'ed as PID 1 with container=postmulti-test and nothing
#   else in its environment.
#
# Processes inside die with the pid namespace; nothing reaches the host
# (enter.sh's overlays).  Root.
set -eu
if [ "${1:-}" = --pid1 ]; then
    # Inside: PID 1 of the new namespaces, chrooted into the sandbox.
    work=$2
    mount -t cgroup2 cgroup2 /sys/fs/cgroup
    mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
    mkdir -p /run/lock
    : >"$work/console"
    touch /dev/console
    mount --bind "$work/console" /dev/console
    echo sandbox.example >/etc/hostname
    mkdir -p /etc/systemd/journald.conf.d
    printf '[Journal]\nStorage=volatile\n' >/etc/systemd/journald.conf.d/postmulti-test.conf
    ln -sf /dev/null /etc/systemd/system/console-getty.service
    ln -sf /dev/null /etc/systemd/system/timers.target
    if [ -f "$work/setup.sh" ]; then
        bash -e "$work/setup.sh" >"$work/setup.log" 2>&1 || {
            echo "boot-systemd.sh: $work/setup.sh failed (exit $?): see $work/setup.log" >&2
            exit 1
        }
    fi
    exec </dev/null >"$work/console" 2>&1
    exec env -i container=postmulti-test /lib/systemd/systemd
fi

work=$(realpath -- "${1:?usage: boot-systemd.sh WORKDIR}")
here=$(dirname -- "$(realpath -- "$0")")
# This script runs again inside, from the repository: on another release's
# root, the repository is one of the shared paths.
if [ -n "${SANDBOX_ROOT:-}" ]; then
    export SANDBOX_SHARE="${here%/tests/sandbox}${SANDBOX_SHARE:+:$SANDBOX_SHARE}"
fi
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
mounted=
if [ -z "$cg2" ]; then
    # None mounted (a sandbox of enter.sh has a fresh /sys): mount one for
    # the time of the boot.
    cg2=$work/cgroup2
    mkdir -p "$cg2"
    mount -t cgroup2 cgroup2 "$cg2"
    mounted=$cg2
fi
own=$(sed -n 's/^0:://p' /proc/self/cgroup)
[ -d "$cg2$own" ] || own=
cg=$cg2${own%/}/postmulti-test-$$
mkdir "$cg"
cleanup() {
    # The pid namespace is gone once its PID 1 has been reaped; its
    # processes may take a moment more to leave their cgroups.
    for _ in $(seq 50); do
        find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
        [ -d "$cg" ] || return 0
        sleep 0.1
    done
    echo "boot-systemd.sh: could not remove $cg" >&2
}
finish() {
    cleanup
    if [ -n "$mounted" ]; then umount "$mounted"; fi
}
trap finish EXIT
rm -f "$work/done"
bash -c '
    echo $$ >"$1/cgroup.procs"
    shift
    exec unshare --cgroup --ipc -- "$@"
' boot-systemd.sh "$cg" \
    env SANDBOX_OVERLAYS="${SANDBOX_OVERLAYS:-etc var}" bash "$here/enter.sh" "$work" \
    bash "$here/boot-systemd.sh" --pid1 "$work" &
# $! is, after the execs, enter.sh's unshare: killing it kills the namespace.
pid=$!
status=0
deadline=$((SECONDS + ${BOOT_TIMEOUT:-300}))
while kill -0 "$pid" 2>/dev/null; do
    if [ -e "$work/done" ]; then
        kill -KILL "$pid"
        break
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "boot-systemd.sh: no $work/done after ${BOOT_TIMEOUT:-300} s: killing the namespace" >&2
        kill -KILL "$pid"
        status=124
        break
    fi
    sleep 0.2
done
{ wait "$pid"; } 2>/dev/null || { s=$?; [ -e "$work/done" ] || [ "$status" != 0 ] || status=$s; }
exit "$status"
