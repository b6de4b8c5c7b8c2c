#!/bin/bash
# enter.sh WORKDIR COMMAND [ARG...]
#
# Runs COMMAND as root in a private mount, pid, network and uts namespace in
# which /etc, /var and /run are overlays of the host's: everything COMMAND
# writes there lands in WORKDIR/upper/{etc,var,run} and nowhere else (/var/run
# is a symlink to /run on Debian, hence /run).  Processes started inside die
# with the pid namespace (also when this script's unshare is killed:
# --kill-child); the only network is a loopback interface.  /tmp is NOT
# overlaid (WORKDIR lives there): commands under test must not write to /tmp.
#
# If WORKDIR/syslog.sock exists (a datagram socket someone listens on), /dev
# is replaced by a private tmpfs holding the usual device nodes (bind mounts
# of the host's), a new devpts instance, a fresh /dev/shm, and /dev/log: a
# symlink to that socket, so that syslog(3) messages from inside the sandbox
# reach the listener and nothing else.
#
# SANDBOX_OVERLAYS (default "etc var run") names the top-level directories
# to overlay; add "usr" to let a test install packages (dpkg -i) without
# touching the host's /usr.
set -eu
work=$1
shift
overlays=${SANDBOX_OVERLAYS:-etc var run}
for d in $overlays; do
    case $d in
    *[!a-z0-9_-]* | "") echo "enter.sh: bad SANDBOX_OVERLAYS entry: $d" >&2; exit 2 ;;
    esac
    mkdir -p "$work/upper/$d" "$work/ovl/$d"
done
exec unshare --mount --pid --fork --net --uts --mount-proc --propagation private \
    --kill-child=SIGKILL -- \
    bash -c '
        set -eu
        work=$1
        overlays=$2
        shift 2
        for d in $overlays; do
            mount -t overlay overlay \
                -o "lowerdir=/$d,upperdir=$work/upper/$d,workdir=$work/ovl/$d" "/$d"
        done
        if [ -S "$work/syslog.sock" ]; then
            dev=$work/dev
            mkdir -p "$dev"
            mount -t tmpfs -o mode=755,nosuid tmpfs "$dev"
            for n in null zero full random urandom tty; do
                touch "$dev/$n"
                mount --bind "/dev/$n" "$dev/$n"
            done
            mkdir "$dev/pts" "$dev/shm"
            mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$dev/pts"
            ln -s pts/ptmx "$dev/ptmx"
            mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$dev/shm"
            ln -s /proc/self/fd "$dev/fd"
            ln -s /proc/self/fd/0 "$dev/stdin"
            ln -s /proc/self/fd/1 "$dev/stdout"
            ln -s /proc/self/fd/2 "$dev/stderr"
            ln -s "$work/syslog.sock" "$dev/log"
            mount --move "$dev" /dev
        fi
        ip link set lo up
        hostname sandbox.example
        exec "$@"
    ' enter.sh "$work" "$overlays" "$@"
