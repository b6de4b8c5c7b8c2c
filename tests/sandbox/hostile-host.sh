#!/bin/bash
# hostile-host.sh [CARGO TEST ARGS...]
#
# Runs cargo test (default: every test binary) inside a sandbox made to look
# like a lived-in host: a /dev/log with a listener (as journald or rsyslog
# give), the host's own Postfix running, and stray files in / (/x/main.cf,
# a postmulti under /usr/local/sbin, an /etc/postfix-stray).  The tests'
# own sandboxes nest inside it.  Nothing on the real host changes.  Root.
#
#   bash tests/sandbox/hostile-host.sh --test list --test concurrency
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d /tmp/pm-hostile-host.XXXXXX)
trap 'rm -rf "$work"' EXIT
[ $# -gt 0 ] || set -- --all-targets
tests/sandbox/enter.sh "$work" bash -c '
    set -e
    cd "$1"; shift
    # The nested sandboxes keep their upper directories under /tmp, which
    # must not be an overlay itself.
    mount -t tmpfs -o mode=1777 tmpfs /tmp
    python3 -c "
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(\"/dev/log\")
with open(\"/run/host-syslog\", \"ab\") as f:
    while True:
        f.write(s.recv(65536) + b\"\\n\")
        f.flush()
" &
    for i in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
    postfix start
    mkdir -p /x /etc/postfix-stray
    echo "stray = yes" > /x/main.cf
    printf "#!/bin/sh\necho stray postmulti\n" > /usr/local/sbin/postmulti
    chmod 755 /usr/local/sbin/postmulti
    echo "hostile host: /dev/log $(test -S /dev/log && echo listening)," \
        "$(pgrep -x master | wc -l) master running, postmulti in PATH: $(command -v postmulti)"
    cargo test --offline --no-fail-fast "$@"
' hostile-host "$PWD" "$@"
