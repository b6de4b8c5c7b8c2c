#!/bin/bash
# realistic.sh: times this postmulti against Debian's /usr/sbin/postmulti on
# instances as operators run them, in a throw-away sandbox
# (tests/sandbox/enter.sh; never the host's /etc).
#
#   sudo bash tests/bench/realistic.sh              # N = 1 10 40 200 500
#   sudo NS="1 200" RUNS=3 bash tests/bench/realistic.sh
#   sudo OURS=/path/to/other/postmulti bash tests/bench/realistic.sh   # another candidate
#
# One real `postmulti -e init`, then one real `postmulti -I postfix-KIND -e
# create` per kind below (Debian's stock main.cf and master.cf, ~700 lines
# with comments), configured with `postconf -c DIR -e/-X` and master.cf
# edits the way MULTI_INSTANCE_README and postfix-wrapper(5) do:
#
#   created   as `postmulti -e create` left it
#   null      null client: loopback-only, relayhost = [127.0.0.1]:10026,
#             mydestination =, local delivery off, master_service_disable =
#   out       output instance: inet_interfaces = 127.0.0.1, smtpd on
#             127.0.0.1:10026 in master.cf (upstream's postfix-out example)
#   in4       input instance on an IPv4 address of its own, inet_protocols =
#             ipv4, myhostname, mynetworks, content_filter
#   in46      the same on an IPv4 and a bracketed IPv6 address, inet_protocols = all
#   bare      an address of its own with mynetworks removed (postconf then
#             checks inet_interfaces against the interfaces: see src/interfaces.rs)
#   tls       TLS settings, hash:/btree:/cidr: tables, smtpd_milters = inet:...
#   deb13     Debian 13's master.cf option
#             -o syslog_name=${multi_instance_name?{$multi_instance_name}:{postfix}}/$service_name
#
# Each kind's instance is the template of its clones (a create takes ~6 s):
# instance I is a copy of kind I mod 8 with its name, queue and data
# directories and, for the kinds with an address, its address (10.1.x.y and
# 2001:db8::x, put on lo in the sandbox's network namespace) edited.  N
# selects the first N through multi_instance_directories.
#
# Real-world mode (REALWORLD=1): the instances are the main.cf and
# master.cf of the projects in ../shared/realworld (REALWORLD_DIR, default
# the directory `shared/realworld` beside the repository; read, never
# copied into the repository): instance I is configuration I mod 10 (in
# the order of their directory names) with its multi_instance_name, queue
# and data directories set, and the database client files each
# configuration names (mysql:, pgsql:, sqlite:, ldap:, memcache:, mongodb:
# with an absolute path, through proxy:) are made in the sandbox with the
# parameters those projects put in them (hosts, user, password, dbname,
# query, ...).  Warnings postconf prints (a parameter set twice, a name the
# release does not know) must then be the same on both sides too.
#
#   sudo REALWORLD=1 NS="10 200" bash tests/bench/realistic.sh
#
# For each N: `postmulti -l` of both must give the same stdout, stderr and
# exit status, byte for byte (the benchmark stops otherwise); strace counts
# the postconf processes ours starts, so N minus that is how many instances
# the native reader answered; then RUNS timed runs of each (default 7 for
# N <= 40, 5 above), alternately, after one untimed warm-up.  It prints a
# markdown table (progress on stderr): medians and their ratio.
#
# Needs root, unshare and overlayfs (the sandbox), Debian's postfix, python3
# and strace (installed with apt-get if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

if [ "$(id -u)" != 0 ]; then
    echo "realistic.sh: needs root (the sandbox uses mount and pid namespaces)" >&2
    exit 1
fi
[ -x /usr/sbin/postmulti ] || { echo "realistic.sh: Debian's postfix is not installed" >&2; exit 1; }
if ! command -v strace >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q strace >&2
fi
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3) || { echo "realistic.sh: needs python3" >&2; exit 1; }

NS=${NS:-"1 10 40 200 500"}
RUNS=${RUNS:-}
realworld=
if [ -n "${REALWORLD:-}" ]; then
    realworld=$(realpath -- "${REALWORLD_DIR:-$root/../shared/realworld}")
    [ -d "$realworld" ] || { echo "realistic.sh: no real-world corpus at $realworld (REALWORLD_DIR)" >&2; exit 1; }
fi

if [ -n "${OURS:-}" ]; then
    bin=$(realpath -- "$OURS")
else
    echo "realistic.sh: cargo build --release" >&2
    cargo build --release --locked -q
    bin=$root/target/release/postmulti
fi

work=$(mktemp -d /tmp/pm-realistic.XXXXXX)
trap 'rm -rf "$work"' EXIT

cp tests/bench/benchlib.py "$work/"
if [ -n "$realworld" ]; then
    # A copy in the throw-away work directory, which the sandbox sees.
    mkdir "$work/realworld"
    for d in "$realworld"/*/; do
        [ -f "$d/main.cf" ] && [ -f "$d/master.cf" ] || continue
        mkdir "$work/realworld/$(basename "$d")"
        cp "$d/main.cf" "$d/master.cf" "$work/realworld/$(basename "$d")/"
    done
fi
cat >"$work/bench.py" <<'PYTHON'
import os, shutil, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import age, log, select_instances, sh, spawn

ours, runs_override, ns = sys.argv[1], sys.argv[2], [int(n) for n in sys.argv[3].split()]
realworld = sys.argv[4] if len(sys.argv) > 4 else ""
ref = "/usr/sbin/postmulti"
KINDS = ["created", "null", "out", "in4", "in46", "bare", "tls", "deb13"]
if realworld:
    KINDS = sorted(os.listdir(realworld))

def v4(i):
    return f"10.1.{i // 250}.{i % 250 + 1}"

def v6(i):
    return f"2001:db8::{i:x}"

def network(count):
    sh("ip", "link", "set", "lo", "up")
    batch = "".join(f"address add {v4(i)}/32 dev lo\naddress add {v6(i)}/128 dev lo\n"
                    for i in range(1, count + 1))
    subprocess.run(["ip", "-batch", "-"], input=batch.encode(), check=True)

def postconf(d, *settings):
    sh("/usr/sbin/postconf", "-c", d, "-e", *settings)

def master_edit(d, old, new):
    path = d + "/master.cf"
    with open(path) as f:
        text = f.read()
    if old not in text:
        sys.exit(f"realistic.sh: {path} lacks {old!r}")
    with open(path, "w") as f:
        f.write(text.replace(old, new, 1))

SMTP = "smtp      inet  n       -       y       -       -       smtpd\n"

def configure(kind, d):
    """One kind's settings, with the placeholder address ADDR4 / ADDR6."""
    if kind == "null":
        postconf(d, "inet_interfaces = loopback-only", "relayhost = [127.0.0.1]:10026",
                 "mydestination =", "local_transport = error:local delivery disabled",
                 "master_service_disable =", "myorigin = $mydomain")
    elif kind == "out":
        postconf(d, "inet_interfaces = 127.0.0.1", "mydestination =", "local_recipient_maps =",
                 "relayhost =", "smtp_bind_address = 127.0.0.1", "master_service_disable =")
        master_edit(d, SMTP, "#" + SMTP + "127.0.0.1:10026 inet n - n - - smtpd\n"
                    "  -o smtpd_client_restrictions=permit_mynetworks,reject\n")
    elif kind == "in4":
        postconf(d, "inet_interfaces = ADDR4", "inet_protocols = ipv4",
                 "myhostname = in.example.com", "mynetworks = 127.0.0.0/8, 10.1.0.0/16",
                 "content_filter = smtp:[127.0.0.1]:10025", "master_service_disable =")
    elif kind == "in46":
        postconf(d, "inet_interfaces = ADDR4, [ADDR6]", "inet_protocols = all",
                 "myhostname = in46.example.com", "mydomain = example.com",
                 "mynetworks = 127.0.0.0/8 [::1]/128 $myhostname", "master_service_disable =")
    elif kind == "bare":
        postconf(d, "inet_interfaces = ADDR4", "master_service_disable =")
        sh("/usr/sbin/postconf", "-c", d, "-X", "mynetworks")
    elif kind == "tls":
        postconf(d, "smtpd_tls_cert_file = /etc/ssl/certs/ssl-cert-snakeoil.pem",
                 "smtpd_tls_key_file = /etc/ssl/private/ssl-cert-snakeoil.key",
                 "smtpd_tls_security_level = may", "smtp_tls_security_level = may",
                 "smtp_tls_CApath = /etc/ssl/certs",
                 "smtp_tls_session_cache_database = btree:${data_directory}/smtp_scache",
                 "transport_maps = hash:" + d + "/transport",
                 "virtual_alias_maps = hash:" + d + "/virtual",
                 "smtpd_client_restrictions = permit_mynetworks, check_client_access cidr:" + d + "/access.cidr",
                 "smtpd_milters = inet:127.0.0.1:8891", "non_smtpd_milters = $smtpd_milters",
                 "milter_default_action = accept")
    elif kind == "deb13":
        master_edit(d, SMTP, SMTP + "  -o syslog_name=${multi_instance_name?{$multi_instance_name}:{postfix}}/$service_name\n")

# What each client type's configuration file holds, as the projects that
# use them write it.
CLIENT_FILE = {
    "mysql": "hosts = 127.0.0.1\nuser = mail\npassword = secret\ndbname = mail\n"
             "query = SELECT goto FROM alias WHERE address='%s' AND active = '1'\n",
    "pgsql": "hosts = 127.0.0.1\nuser = mail\npassword = secret\ndbname = mail\n"
             "query = SELECT 1 FROM domain WHERE name='%s'\n",
    "sqlite": "dbpath = /home/user-data/mail/users.sqlite\n"
              "query = SELECT 1 FROM users WHERE email='%s'\n",
    "ldap": "server_host = ldap://127.0.0.1\nsearch_base = dc=example,dc=test\n"
            "query_filter = (mail=%s)\nresult_attribute = mail\nbind = no\n",
    "memcache": "memcache = inet:127.0.0.1:11211\nkey_format = %s\n",
    "mongodb": "uri = mongodb://127.0.0.1\ndbname = mail\ncollection = users\n"
               "query_filter = {\"mail\":\"%s\"}\n",
}

def client_files(text):
    """Makes the database client files TEXT names (type:/path, after any
    number of proxy:)."""
    import re
    for m in re.finditer(rb"(?:proxy:)*(mysql|pgsql|sqlite|ldap|memcache|mongodb):(/[^\s,}]+)", text):
        kind, path = m.group(1).decode(), m.group(2).decode()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(CLIENT_FILE[kind])
        age([path])

PRIVATE = (b"queue_directory", b"data_directory", b"multi_instance_name",
           b"multi_instance_group", b"multi_instance_enable")

def without_private(main):
    """main.cf without its logical lines that set the private parameters."""
    out, skipping = [], False
    for line in main.split(b"\n"):
        if line[:1] in (b" ", b"\t") and skipping:
            continue
        name = line.split(b"=", 1)[0].strip()
        skipping = b"=" in line and line[:1] not in (b" ", b"\t", b"#") and name in PRIVATE
        if not skipping:
            out.append(line)
    return b"\n".join(out)

def make_realworld_templates():
    sh(ref, "-e", "init")
    log("realistic.sh: postmulti -I postfix-created -e create")
    sh(ref, "-I", "postfix-created", "-e", "create")
    for kind in KINDS:
        for cf in ("main.cf", "master.cf"):
            with open(f"{realworld}/{kind}/{cf}", "rb") as f:
                client_files(f.read())

def make_templates():
    if realworld:
        return make_realworld_templates()
    sh(ref, "-e", "init")
    for kind in KINDS:
        log(f"realistic.sh: postmulti -I postfix-{kind} -G {kind} -e create")
        sh(ref, "-I", f"postfix-{kind}", "-G", kind, "-e", "create")
    # Configured once all are made: the templates' placeholder addresses
    # would stop postmulti itself.
    for kind in KINDS:
        configure(kind, f"/etc/postfix-{kind}")

def clone_instances(count):
    templates = {}
    for kind in KINDS:
        d = f"{realworld}/{kind}" if realworld else f"/etc/postfix-{kind}"
        with open(d + "/main.cf", "rb") as f:
            main = f.read()
        with open(d + "/master.cf", "rb") as f:
            master = f.read()
        templates[kind] = (main, master)
    for i in range(1, count + 1):
        kind = KINDS[(i - 1) % len(KINDS)]
        main, master = templates[kind]
        name = f"postfix-r{i}"
        if realworld:
            main = without_private(main) + (
                f"\nqueue_directory = /var/spool/{name}\ndata_directory = /var/lib/{name}\n"
                f"multi_instance_name = {name}\nmulti_instance_group = {kind}\n"
                f"multi_instance_enable = yes\n").encode()
        out = []
        for line in main.split(b"\n"):
            for key, value in ((b"multi_instance_name", name), (b"queue_directory", "/var/spool/" + name),
                               (b"data_directory", "/var/lib/" + name)):
                if line.startswith(key + b" ="):
                    line = key + b" = " + value.encode()
            out.append(line)
        main = b"\n".join(out).replace(b"ADDR4", v4(i).encode()).replace(b"ADDR6", v6(i).encode())
        d = "/etc/" + name
        os.makedirs(d, exist_ok=True)
        with open(d + "/main.cf", "wb") as f:
            f.write(main)
        with open(d + "/master.cf", "wb") as f:
            f.write(master)
        age([d + "/main.cf", d + "/master.cf"])
        for base in ("/var/spool/", "/var/lib/"):
            st = os.stat(base + ("postfix-created" if realworld else f"postfix-{kind}"))
            path = base + name
            os.makedirs(path, exist_ok=True)
            os.chown(path, st.st_uid, st.st_gid)
            os.chmod(path, st.st_mode & 0o7777)

def capture(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout, p.stderr

def postconf_execs(argv):
    trace = "/run/pm-realistic.strace"
    subprocess.run(["strace", "-f", "-qq", "-e", "trace=execve", "-o", trace] + argv,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(trace, "rb") as f:
        count = sum(1 for line in f if b"postconf" in line and b"-xc" in line)
    os.unlink(trace)
    return count

network(max(ns))
make_templates()
log(f"realistic.sh: cloning {max(ns)} instances")
clone_instances(max(ns))

rows = []
for n in ns:
    select_instances("postfix-r", n)
    a, b = capture([ref, "-l"]), capture([ours, "-l"])
    if a != b:
        log(f"realistic.sh: N={n}: `postmulti -l` differs: status {a[0]} vs {b[0]}")
        sys.stderr.buffer.write(b"--- reference\n" + a[2][:2000] + a[1][:2000]
                                + b"--- ours\n" + b[2][:2000] + b[1][:2000])
        sys.exit(1)
    lines = a[1].count(b"\n")
    # Real-world configurations may draw postconf's warnings: the same on
    # both sides (above) is all that is asked of them.
    if a[0] != 0 or lines != n + 1 or (a[2] and not realworld):
        sys.exit(f"realistic.sh: N={n}: postmulti -l: exit {a[0]}, "
                 f"{lines} lines, stderr {a[2][:200]!r}")
    native = n - postconf_execs([ours, "-l"])
    log(f"realistic.sh: N={n}: -l identical ({n + 1} lines, {len(a[1])} bytes); "
        f"native answers {native}/{n}")
    runs = int(runs_override) if runs_override else (7 if n <= 40 else 5)
    sides = [("ref", ref), ("ours", ours)]
    times = {s: [] for s, _ in sides}
    for _, exe in sides:
        spawn([exe, "-l"], quiet=True)
    for r in range(runs):
        for side, exe in (sides if r % 2 == 0 else sides[::-1]):
            ms, status = spawn([exe, "-l"], quiet=True)
            if status != 0:
                sys.exit(f"realistic.sh: N={n}: {side} postmulti -l: exit {status}")
            times[side].append(ms)
    med = {s: statistics.median(t) for s, t in times.items()}
    row = (f"| {n} | {med['ref']:.1f} | {med['ours']:.2f} | {med['ref'] / med['ours']:.1f}× "
           f"| {native}/{n} ({100 * native / n:.0f}%) | identical ({len(a[1])} bytes) |")
    log("realistic.sh: " + row)
    rows.append(row)

print("| N | Debian's `postmulti -l` median ms | ours median ms | ratio | answered natively | output |")
print("|---:|---:|---:|---:|---:|---|")
for row in rows:
    print(row)
PYTHON

tests/sandbox/enter.sh "$work" "$python" "$work/bench.py" "$bin" "$RUNS" "$NS" \
    "${realworld:+$work/realworld}"
