#!/bin/bash
# demo.sh: builds postmulti and shows it managing three Postfix instances in a
# throw-away sandbox (private mount, pid and network namespaces; /etc and /var
# are overlays, so nothing on this machine changes and the daemons die with
# the sandbox).  Run as root on Debian 12.
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
    show postmulti -e init
    show postmulti -I postfix-out -G mta -e create
    show postmulti -I postfix-in -G mta -e create
    show postmulti -i postfix-out -e enable
    show postmulti -l
    show postmulti -l -j
    show postfix start                          # runs postmulti -p -- start
    show postmulti -p status
    show postmulti -g mta -x sh -c "echo \$multi_instance_name: \$queue_directory"
    show postfix stop
' demo "$bin"
