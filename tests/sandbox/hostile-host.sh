#!/bin/bash
# hostile-host.sh [CARGO TEST ARGS...]
#
# Runs cargo test (default: every test binary) inside a sandbox made to look
# like a lived-in host: a /dev/log with a listener (as journald or rsyslog
# give), the host's own Postfix running, stray files in / (/x/main.cf,
# a postmulti under /usr/local/sbin, an /etc/postfix-stray), and this
# project's .deb (.ci/build-deb) installed and used: Debian's postmulti is
# diverted to /usr/sbin/postmulti.postfix and a life-cycle command left
# /run/postmulti.lock behind.  The tests' own sandboxes nest inside it.
# Nothing on the real host changes.  Root.
#
#   bash tests/sandbox/hostile-host.sh --test list --test concurrency
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d /tmp/pm-hostile-host.XXXXXX)
trap 'rm -rf "$work"' EXIT
[ $# -gt 0 ] || set -- --all-targets
cargo build --offline -q --bin postmulti
deb=$(.ci/build-deb --binary target/debug/postmulti --output "$work/deb")
tests/sandbox/enter.sh "$work" bash -c '
    set -e
    cd "$1"; shift
    # (before /tmp is replaced: the .deb is in the work directory there)
    dpkg -i "$1" >/dev/null
    shift
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
    /usr/sbin/postmulti -e init
    echo "hostile host: /dev/log $(test -S /dev/log && echo listening)," \
        "$(pgrep -x master | wc -l) master running, postmulti in PATH: $(command -v postmulti)," \
        "$(dpkg-query -W -f="\${Package} \${Status}" postmulti-rs)," \
        "$(stat -c "%n %A" /run/postmulti.lock)"
    test -e /usr/sbin/postmulti.postfix && test -e /run/postmulti.lock
    cargo test --offline --no-fail-fast "$@"
' hostile-host "$PWD" "$deb" "$@"
