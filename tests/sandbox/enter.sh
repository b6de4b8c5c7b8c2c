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
set -eu
work=$1
shift
for d in etc var run; do
    mkdir -p "$work/upper/$d" "$work/ovl/$d"
done
exec unshare --mount --pid --fork --net --uts --mount-proc --propagation private \
    --kill-child=SIGKILL -- \
    bash -c '
        set -eu
        work=$1
        shift
        for d in etc var run; do
            mount -t overlay overlay \
                -o "lowerdir=/$d,upperdir=$work/upper/$d,workdir=$work/ovl/$d" "/$d"
        done
        ip link set lo up
        hostname sandbox.example
        exec "$@"
    ' enter.sh "$work" "$@"
