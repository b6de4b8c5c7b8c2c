#!/bin/bash
# demo.sh: builds postmulti and shows it managing three Postfix instances in a
# throw-away sandbox (private mount, pid and network namespaces; the whole
# root is copy-on-write, so nothing on this machine changes, and the daemons
# die with the sandbox).  Run as root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive
if ! [ -x /usr/sbin/postfix ]; then
    apt-get update -q && apt-get install -y -q postfix iproute2
fi
cargo build --release --locked -q
bin=$PWD/target/release/postmulti
work=$(mktemp -d /tmp/postmulti-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
tests/sandbox/enter.sh "$work" bash -c '
    set -e
    mount --bind "$1" /usr/sbin/postmulti       # ours replaces the C binary
    show() { echo; echo "# $*"; "$@" 2>&1 || echo "(exit status $?)"; }
    # postfix-script reports to a terminal only (to syslog otherwise): give it one.
    on_tty() { echo; echo "# $*"; script -qec "$*" /dev/null | tr -d "\r"; }
    # Each instance: is its master daemon running (its pid file, and kill -0)?
    daemons() {
        echo; echo "# the master daemon of each instance"
        postmulti -x sh -c '"'"'pid=$(tr -d " " 2>/dev/null < "$queue_directory/pid/master.pid") || pid=
            if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then state="running, pid $pid"; else state="not running"; fi
            printf "%-12s %-8s %s\n" "${multi_instance_name:--}" "$multi_instance_enable" "$state"'"'"'
    }
    show postmulti -e init
    show postmulti -I postfix-out -G mta -e create
    show postmulti -I postfix-in -G mta -e create
    show postmulti -i postfix-out -e enable
    show postmulti -l
    show postmulti -l -j
    on_tty postfix start                        # runs postmulti -p -- start
    daemons                                     # postfix-in is disabled: start only checks it
    show postmulti -g mta -x sh -c "echo \$multi_instance_name: \$queue_directory"
    on_tty postmulti -i postfix-out -p status
    on_tty postfix stop                         # stops the enabled ones, in reverse order
    for i in $(seq 50); do pgrep -x master >/dev/null || break; sleep 0.1; done
    daemons
' demo "$bin"
