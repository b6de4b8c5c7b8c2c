#!/bin/bash
# scale.sh: times this postmulti against Debian's /usr/sbin/postmulti with
# N secondary instances, in a throw-away sandbox (tests/sandbox/enter.sh).
#
#   sudo bash tests/bench/scale.sh                 # N = 0 1 10 100 500 1000
#   sudo NS="1 10 100" RUNS=7 bash tests/bench/scale.sh
#
# For each N it times `-l`, `-l -j` (ours only: 3.11+), `-x true`,
# `-i postfix-bN -x true` (`-i -` for N = 0), and `-l` again with another
# postconf bind-mounted over /usr/sbin/postconf (a copy with another mtime:
# not the one ours was built against, so ours reads `postconf -d` once per
# run, as after a Postfix upgrade or in a build without Postfix; strace, if
# installed, counts 1), the two binaries alternately
# (C then ours, ours then C on the next run), after one untimed warm-up run
# of each under /usr/bin/time.  It prints a markdown table on stdout
# (progress goes to stderr): medians of RUNS runs (default 7 for N <= 100, 5
# above), their ratio (C / ours: how many times faster ours is), and the peak
# resident set size of each command's process tree in the warm-up run
# (/usr/bin/time's %M: the largest ru_maxrss of the command and the children
# it reaped, postconf for the C binary, `true` for -x).
#
# Instances are cloned, not created one by one (a real `postmulti -e create`
# takes ~2 s): one real `postmulti -e init` and `postmulti -I postfix-t -e
# create` make a template, copied as /etc/postfix-bI with its
# multi_instance_name, queue_directory and data_directory edited and its
# queue and data directories made; N selects the first N of them through
# multi_instance_directories (`postconf -e`).  Before timing an N, the
# output and exit status of `-l` and `-i postfix-bN -l` must be the same for
# the two binaries, or the benchmark stops; with strace installed it also
# reports how many postconf processes ours started for `-l` (0 expected).
#
# Needs root, unshare and overlayfs (the sandbox), Debian's postfix and
# python3 (the timer: posix_spawn + waitpid) and GNU time (peak RSS; installed
# with apt-get if missing).  Nothing outside the sandbox's
# work directory in /tmp is written, and that is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

if [ "$(id -u)" != 0 ]; then
    echo "scale.sh: needs root (the sandbox uses mount and pid namespaces)" >&2
    exit 1
fi
[ -x /usr/sbin/postmulti ] || { echo "scale.sh: Debian's postfix is not installed" >&2; exit 1; }
if ! [ -x /usr/bin/time ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >&2
fi
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3) || { echo "scale.sh: needs python3" >&2; exit 1; }

NS=${NS:-"0 1 10 100 500 1000"}
RUNS=${RUNS:-}

echo "scale.sh: cargo build --release" >&2
cargo build --release --locked -q
bin=$root/target/release/postmulti

work=$(mktemp -d /tmp/pm-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

cp tests/bench/benchlib.py "$work/"
cat >"$work/bench.py" <<'PYTHON'
import os, shutil, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import age, log, select_instances, sh, spawn

ours, runs_override, ns = sys.argv[1], sys.argv[2], [int(n) for n in sys.argv[3].split()]
ref = "/usr/sbin/postmulti"

def clone_instances(count):
    tdir = "/etc/postfix-t"
    with open(tdir + "/main.cf", "rb") as f:
        template = f.read().split(b"\n")
    with open(tdir + "/master.cf", "rb") as f:
        master = f.read()
    want = {b"multi_instance_name": None, b"queue_directory": None, b"data_directory": None}
    for line in template:
        for k in want:
            if line.startswith(k + b" =") or line.startswith(k + b"="):
                want[k] = True
    missing = [k for k, v in want.items() if not v]
    if missing:
        sys.exit(f"template /etc/postfix-t/main.cf lacks {missing}")
    st_q = os.stat("/var/spool/postfix-t")
    st_d = os.stat("/var/lib/postfix-t")
    for i in range(1, count + 1):
        name = f"postfix-b{i}".encode()
        values = {b"multi_instance_name": name,
                  b"queue_directory": b"/var/spool/" + name,
                  b"data_directory": b"/var/lib/" + name}
        out = []
        for line in template:
            for k, v in values.items():
                if line.startswith(k + b" =") or line.startswith(k + b"="):
                    line = k + b" = " + v
            out.append(line)
        d = "/etc/" + name.decode()
        os.makedirs(d, exist_ok=True)
        with open(d + "/main.cf", "wb") as f:
            f.write(b"\n".join(out))
        with open(d + "/master.cf", "wb") as f:
            f.write(master)
        age([d + "/main.cf", d + "/master.cf"])
        for path, st in (("/var/spool/" + name.decode(), st_q), ("/var/lib/" + name.decode(), st_d)):
            os.makedirs(path, exist_ok=True)
            os.chown(path, st.st_uid, st.st_gid)
            os.chmod(path, st.st_mode & 0o7777)

def peak_rss(argv):
    """Peak RSS in KiB of argv's process tree, as /usr/bin/time reports it.
    (Not from a child of this python: a vfork()ed child keeps the parent's
    high-water mark across exec, so it would read as python's own ~12 MiB.)"""
    out = "/run/pm-bench.rss"
    subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out] + argv,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)
    with open(out) as f:
        kib = int(f.read().split()[-1])
    os.unlink(out)
    return kib

def capture(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return p.returncode, p.stdout

def postconf_execs(argv):
    """How many postconf processes ours starts (needs strace; None without)."""
    strace = shutil.which("strace")
    if not strace:
        return None
    trace = "/run/pm-bench.strace"
    subprocess.run([strace, "-f", "-qq", "-e", "trace=execve", "-o", trace] + argv,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(trace, "rb") as f:
        count = sum(1 for line in f if b"postconf" in line and b"execve(" in line)
    os.unlink(trace)
    return count

# A copy of postconf with another mtime: to ours, not the postconf it was
# built against (what a Postfix upgrade without a rebuild of ours looks like).
OTHER_POSTCONF = "/run/pm-bench.postconf"
shutil.copy2("/usr/sbin/postconf", OTHER_POSTCONF)
os.utime(OTHER_POSTCONF, (1577836800, 1577836800))

log("scale.sh: postmulti -e init; postmulti -I postfix-t -e create (the template)")
sh(ref, "-e", "init")
sh(ref, "-I", "postfix-t", "-e", "create")
log(f"scale.sh: cloning {max(ns)} instances")
clone_instances(max(ns))

rows, lin = [], []
for n in ns:
    select_instances("postfix-b", n)
    one = f"postfix-b{n}" if n else "-"
    for args in (["-l"], ["-i", one, "-l"]):
        a, b = capture([ref] + args), capture([ours] + args)
        if a != b:
            log(f"scale.sh: N={n}: `postmulti {' '.join(args)}` differs: status {a[0]} vs {b[0]}")
            sys.stderr.buffer.write(b"--- reference\n" + a[1][:2000] + b"--- ours\n" + b[1][:2000])
            sys.exit(1)
        want = n + 1 if args == ["-l"] else 1
        got = a[1].count(b"\n")
        if a[0] != 0 or got != want:
            sys.exit(f"scale.sh: N={n}: postmulti {' '.join(args)} lists "
                     f"{got} instances (exit {a[0]}), not {want}")
    execs = postconf_execs([ours, "-l"])
    log(f"scale.sh: N={n}: -l identical ({n + 1} lines); ours started "
        f"{'?' if execs is None else execs} postconf processes")
    runs = int(runs_override) if runs_override else (7 if n <= 100 else 5)
    commands = [(["-l"], True, False), (["-l", "-j"], False, False), (["-x", "true"], True, False),
                (["-i", one, "-x", "true"], True, False), (["-l"], True, True)]
    for args, both, other_postconf in commands:
        if other_postconf:
            # Another postconf than the one ours was built against (a Postfix
            # upgraded since the build): ours reads `postconf -d` once.
            sh("mount", "--bind", OTHER_POSTCONF, "/usr/sbin/postconf")
            a, b = capture([ref, "-l"]), capture([ours, "-l"])
            if a != b:
                sys.exit(f"scale.sh: N={n}: `postmulti -l` with another postconf differs")
            execs = postconf_execs([ours, "-l"])
            log(f"scale.sh: N={n}: another postconf: -l identical; ours started "
                f"{'?' if execs is None else execs} postconf processes")
        sides = [("ref", ref), ("ours", ours)] if both else [("ours", ours)]
        times = {s: [] for s, _ in sides}
        # The untimed warm-up run of each is the one whose peak RSS is taken.
        rss = {s: peak_rss([exe] + args) for s, exe in sides}
        for r in range(runs):
            order = sides if r % 2 == 0 else sides[::-1]
            for side, exe in order:
                ms, status = spawn([exe] + args)
                if status != 0:
                    sys.exit(f"scale.sh: N={n}: {side} postmulti {' '.join(args)}: exit {status}")
                times[side].append(ms)
        med = {s: statistics.median(t) for s, t in times.items()}
        if other_postconf:
            sh("umount", "/usr/sbin/postconf")
        c = f"{med['ref']:.1f}" if both else "—"
        ratio = f"{med['ref'] / med['ours']:.1f}×" if both else "—"
        c_rss = str(rss["ref"]) if both else "—"
        label = f"`postmulti {' '.join(args)}`" + (", another postconf" if other_postconf else "")
        row = f"| {n} | {label} | {c} | {med['ours']:.2f} | {ratio} | {c_rss} | {rss['ours']} |"
        log("scale.sh: " + row)
        rows.append(row)
        if args == ["-l"] and not other_postconf:
            lin.append((n, med["ours"], med["ref"]))

print("| N | command | C median ms | ours median ms | ratio | C peak RSS KiB | ours peak RSS KiB |")
print("|---:|---|---:|---:|---:|---:|---:|")
for row in rows:
    print(row)
print()
# Linearity: the cost of one more secondary instance for `-l`, measured from
# the smallest N (its start-up cost taken out).
if len(lin) > 1:
    n0, o0, c0 = lin[0]
    print(f"`-l` cost per secondary instance, (median(N) - median(N={n0})) / (N - {n0}): "
          + "; ".join(f"N={n}: C {(c - c0) / (n - n0) * 1000:.0f} µs, ours {(o - o0) / (n - n0) * 1000:.1f} µs"
                      for n, o, c in lin[1:]))
PYTHON

tests/sandbox/enter.sh "$work" "$python" "$work/bench.py" "$bin" "$RUNS" "$NS"
