//! The life-cycle lock (src/lock.rs, /run/postmulti.lock).
//!
//! - Life-cycle commands are serialized: 32 concurrent creates, started
//!   together through a barrier, keep every instance and its directories.
//! - A killed lock holder blocks nobody; a waiting command says, once, that
//!   it waits and for which pid; a helper that calls back into postmulti does
//!   not deadlock, with the inherited descriptor or without it (closed on
//!   the way, as sudo does: the holder is an ancestor), nor does a command
//!   run under `flock -o` of the lock; iterator mode never waits.
//! - No other user can hold the lock or delay a root life-cycle command by
//!   locking what it can open (side by side with the reference, which has no
//!   lock).
//! - The lock never costs a command: with /run read-only, missing, foreign
//!   or world-writable, or anything but a root-only regular file at the
//!   lock's path, root's create (and `-e destroy -i -`, refused by upstream's
//!   own check) does what the reference does, side by side: status, stdout,
//!   stderr, syslog, files, plus exactly one warning line where something
//!   looks tampered with; nothing is opened through what is refused.
//!   A lock file already on a read-only /run is still locked (ours only).
//!   What nobody or postfix plant at the lock's path in a /run they can
//!   write (a symbolic link to root's file, a FIFO) costs nothing either.
//! - A caller other than root goes on without the lock, as upstream does.
//!
//! Upstream admits it races ("No multi.cf lock file, so this is not
//! race-free"), so serialization and the lock's own messages are ours-only
//! behaviours; whatever the reference also does is compared side by side.
mod common;
use common::*;
use std::time::Duration;

/// The lock file, as src/lock.rs names it.
const LOCK: &str = "/run/postmulti.lock";

/// What a command prints when it waits for the lock held by process PID:
/// on stderr when that is a terminal (the tests give waiting commands one
/// with script(1): before Postfix 3.11, diagnostics reach only a
/// terminal), and to syslog.
fn waiting_line(pid: &str) -> String {
    format!("postmulti: waiting for the life-cycle lock {LOCK} (held by pid {pid})\n")
}

/// Shell functions: `await CONDITION...` polls every 0.05 s for at most
/// 60 s; `within START SECONDS` prints yes when less than SECONDS have
/// passed since START (an $EPOCHREALTIME).
const AWAIT: &str = r#"
await() {
    local n=0
    until "$@"; do
        n=$((n + 1)); [ $n -lt 1200 ] || { echo "gave up waiting for: $*"; return 1; }
        sleep 0.05
    done
}
within() {
    awk -v start="$1" -v now="$EPOCHREALTIME" -v limit="$2" \
        'BEGIN { print (now - start < limit) ? "yes" : "no" }'
}
"#;

/// Creates 32 instances at once: each waits at a barrier (a shared flock on
/// /run/barrier that a gate process holds exclusively) until all 32 are seen
/// waiting in /proc/locks, then all go together.  Each logs `start I TIME`
/// just before its postmulti and `finish I TIME STATUS` after it to
/// /run/times; the summary has exactly one right answer.
const THIRTY_TWO_CREATES: &str = r#"
: > /run/barrier
python3 -c '
import fcntl, os, time
f = open("/run/barrier")
fcntl.flock(f, fcntl.LOCK_EX)
open("/run/gate-closed", "w").close()
while not os.path.exists("/run/go"):
    time.sleep(0.01)
' & gate=$!
await test -e /run/gate-closed
ino=$(stat -c %i /run/barrier)
for i in $(seq 1 32); do
    (
        flock -s /run/barrier true
        echo "start $i $EPOCHREALTIME" >> /run/times
        postmulti -I postfix-c$i -e create >/dev/null 2>&1; s=$?
        echo "finish $i $EPOCHREALTIME $s" >> /run/times
    ) &
done
at_barrier() { [ "$(grep -c -- "-> FLOCK .*:$ino " /proc/locks)" = 32 ]; }
await at_barrier
echo "waiting at the barrier: $(grep -c -- "-> FLOCK .*:$ino " /proc/locks)"
touch /run/go
wait
echo "nonzero exits: $(grep '^finish' /run/times | grep -vc ' 0$')"
echo "zero exits: $(grep '^finish' /run/times | grep -c ' 0$')"
dirs=$(postconf -h multi_instance_directories | tr ' ,' '\n\n' | grep -v '^$')
echo "registered: $(echo "$dirs" | wc -l)"
echo "registered twice: $(echo "$dirs" | sort | uniq -d | wc -l)"
echo "config directories: $(ls -d /etc/postfix-c* | wc -l)"
echo "queue directories: $(ls -d /var/spool/postfix-c* | wc -l)"
echo "data directories: $(ls -d /var/lib/postfix-c* | wc -l)"
echo "created but not registered: $(ls -d /etc/postfix-c* | grep -vxF "$dirs" | wc -l)"
echo "listed: $(postmulti -l | wc -l)"
echo "instances whose queue and data directories exist: $(postmulti -x sh -c 'test -d "$queue_directory" && test -d "$data_directory" && echo ok' | grep -c '^ok$')"
"#;

const EVERYTHING_KEPT: &str = "waiting at the barrier: 32\nnonzero exits: 0\nzero exits: 32\n\
registered: 32\nregistered twice: 0\nconfig directories: 32\nqueue directories: 32\n\
data directories: 32\ncreated but not registered: 0\nlisted: 33\n\
instances whose queue and data directories exist: 33\n";

/// The `start` and `finish` times of /run/times, as seconds.
fn start_and_finish_times(times: &str) -> (Vec<f64>, Vec<f64>) {
    let (mut starts, mut finishes) = (Vec::new(), Vec::new());
    for line in times.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let t: f64 = f[2]
            .parse()
            .unwrap_or_else(|_| panic!("bad time in {line:?}"));
        match f[0] {
            "start" => starts.push(t),
            "finish" => finishes.push(t),
            _ => panic!("unexpected line {line:?}"),
        }
    }
    (starts, finishes)
}

#[test]
fn thirty_two_concurrent_creates_keep_every_instance_three_times_over() {
    for round in 1..=3 {
        let o = Scenario::new()
            .setup("postmulti -e init")
            .timeout(Duration::from_secs(900))
            .run_shell_ours(&format!("{AWAIT}{THIRTY_TWO_CREATES}"));
        assert_eq!(
            o.stdout_str(),
            EVERYTHING_KEPT,
            "round {round}\n{}",
            o.describe()
        );
        o.assert_status(0);
        // Evidence that they overlapped: all 32 had started before any finished.
        let times = String::from_utf8_lossy(o.file("/run/times").expect("/run/times")).into_owned();
        let (starts, finishes) = start_and_finish_times(&times);
        assert_eq!(
            (starts.len(), finishes.len()),
            (32, 32),
            "round {round}\n{times}"
        );
        let last_start = starts.iter().cloned().fold(f64::MIN, f64::max);
        let first_finish = finishes.iter().cloned().fold(f64::MAX, f64::min);
        assert!(
            last_start < first_finish,
            "round {round}: a create started at {last_start} after the first finished at {first_finish}\n{times}"
        );
    }
}

/// postmulti-script, wrapped: with /run/hold present it holds the lock by
/// turning into a long sleep (same process, so kill -9 ends the holder).
const HOLDING_SCRIPT: &str = r#"
cp /usr/lib/postfix/sbin/postmulti-script /run/real-postmulti-script
cat > /run/wrapper <<'SH'
#!/bin/sh
if [ -e /run/hold ]; then rm -f /run/hold; exec sleep 1000; fi
exec /run/real-postmulti-script "$@"
SH
chmod 755 /run/wrapper
mount --bind /run/wrapper /usr/lib/postfix/sbin/postmulti-script
"#;

#[test]
fn a_killed_lock_holder_blocks_nobody() {
    let o = Scenario::new()
        .setup("postmulti -e init")
        .setup(HOLDING_SCRIPT)
        .timeout(Duration::from_secs(300))
        .run_shell_ours(&format!(
            "{AWAIT}{}",
            r#"
touch /run/hold
postmulti -I postfix-a -e create & holder=$!
await test ! -e /run/hold
ino=$(stat -c %i /run/postmulti.lock)
grep -q "^[0-9]*: FLOCK  *ADVISORY  *WRITE $holder [0-9a-f:]*:$ino " /proc/locks &&
    echo "/proc/locks: the first create holds the lock"
script -qfec 'postmulti -I postfix-b -e create' /dev/null >/run/waiter.err & waiter=$!
await grep -q waiting /run/waiter.err
echo "the second create's stderr:"; tr -d '\r' </run/waiter.err | sed "s/pid $holder)/pid HOLDER)/"
kill -0 $waiter 2>/dev/null && echo "second create waits while the first holds the lock"
kill -9 $holder
wait $waiter; echo "second create exit $?"
postmulti -l | awk '{print $1}'
"#
        ));
    o.assert_status(0).assert_stdout(format!(
        "/proc/locks: the first create holds the lock\nthe second create's stderr:\n{}\
second create waits while the first holds the lock\nsecond create exit 0\n-\npostfix-b\n",
        waiting_line("HOLDER")
    ));
}

#[test]
fn a_waiting_command_says_once_that_it_waits_and_for_whom() {
    let o = Scenario::new()
        .setup("postmulti -e init")
        .setup(
            r#"
cp /usr/lib/postfix/sbin/postmulti-script /run/real-postmulti-script
cat > /run/wrapper <<'SH'
#!/bin/sh
if [ -e /run/hold ]; then
    rm -f /run/hold
    while [ ! -e /run/release ]; do sleep 0.1; done
fi
exec /run/real-postmulti-script "$@"
SH
chmod 755 /run/wrapper
mount --bind /run/wrapper /usr/lib/postfix/sbin/postmulti-script
"#,
        )
        .timeout(Duration::from_secs(300))
        .run_shell_ours(&format!(
            "{AWAIT}{}",
            r#"
touch /run/hold
postmulti -I postfix-a -e create & holder=$!
await test ! -e /run/hold
script -qfec 'postmulti -I postfix-b -e create' /dev/null >/run/waiter.err & waiter=$!
await grep -q waiting /run/waiter.err
sleep 1.5   # a second line, if any, would come now
touch /run/release
wait $holder; echo "first create exit $?"
wait $waiter; echo "second create exit $?"
echo "the second create's stderr:"; tr -d '\r' </run/waiter.err | sed "s/pid $holder)/pid HOLDER)/"
postmulti -l | awk '{print $1}'
"#
        ));
    o.assert_status(0).assert_stdout(format!(
        "first create exit 0\nsecond create exit 0\nthe second create's stderr:\n{}-\npostfix-a\npostfix-b\n",
        waiting_line("HOLDER")
    ));
    // The same line goes to syslog at info level (mail.info = 22), as msg_info() sends it.
    let want =
        format!("<22>TIME postmulti[PID]: waiting for the life-cycle lock {LOCK} (held by pid ");
    assert!(
        o.postmulti_syslog().iter().any(|r| r.starts_with(&want)),
        "no waiting record in syslog\n{}",
        o.describe()
    );
}

#[test]
fn an_uncontended_command_says_nothing_new() {
    // Side by side: the lock adds no output and no file (but the lock file
    // itself, which the harness ignores and this test checks).
    let c = Scenario::new().setup("postmulti -e init").run_shell(
        "postmulti -I postfix-q -G g -e create; echo \"create exit $?\"; \
             postmulti -i q -e enable; echo \"enable exit $?\"; postmulti -l -i q",
    );
    c.assert_same()
        .assert_status(0)
        .assert_stderr("")
        .assert_stdout(
        "create exit 0\nenable exit 0\npostfix-q       g               y         /etc/postfix-q\n",
    );
    match c.ours.after.0.get(LOCK) {
        Some(Entry::File {
            mode: 0o600,
            uid: 0,
            content,
            ..
        }) if content.is_empty() => {}
        other => panic!("{LOCK} of ours: {other:?}\n{}", c.ours.describe()),
    }
    assert!(!c.reference.after.0.contains_key(LOCK));
}

#[test]
fn a_helper_that_calls_back_into_postmulti_does_not_deadlock() {
    // The wrapped helper runs a life-cycle postmulti of its own while the
    // outer one holds the lock: it must re-lock the inherited descriptor,
    // at once (no waiting line).
    let o = Scenario::new()
        .setup("postmulti -e init")
        .setup(
            r#"
cp /usr/lib/postfix/sbin/postmulti-script /run/real-postmulti-script
cat > /run/wrapper <<'SH'
#!/bin/sh
if [ "$1 $2" = "-e create" ]; then
    /usr/sbin/postmulti -i - -e enable >/dev/null 2>/run/nested.err
    echo "nested exit $?" > /run/nested
fi
exec /run/real-postmulti-script "$@"
SH
chmod 755 /run/wrapper
mount --bind /run/wrapper /usr/lib/postfix/sbin/postmulti-script
"#,
        )
        .timeout(Duration::from_secs(120))
        .run_shell_ours("postmulti -I postfix-n -e create; echo \"create exit $?\"; cat /run/nested /run/nested.err; postmulti -l -i n");
    o.assert_status(0).assert_stdout(
        "create exit 0\nnested exit 0\npostfix-n       -               n         /etc/postfix-n\n",
    );
}

#[test]
fn iterator_mode_does_not_wait_for_the_lock() {
    let o = Scenario::new()
        .setup("postmulti -e init")
        .setup(HOLDING_SCRIPT)
        .timeout(Duration::from_secs(120))
        .run_shell_ours(&format!(
            "{AWAIT}{}",
            r#"
touch /run/hold
postmulti -I postfix-a -e create & holder=$!
await test ! -e /run/hold
timeout 10 postmulti -l; echo "list exit $?"
timeout 10 postmulti -x true; echo "exec exit $?"
kill -9 $holder
"#
        ));
    o.assert_status(0).assert_stdout(
        "-               -               y         /etc/postfix\nlist exit 0\nexec exit 0\n",
    );
}

/// As nobody and as postfix at once: open and lock (flock, and fcntl/lockf
/// record locks where the file is a regular one) everything the user can
/// open under /etc, /run, /var and /tmp, try to create, replace, link,
/// remove or open the lock file, keep it all, then let root create two
/// instances (the second after a second round, once ours has made the lock
/// file).  The sandbox's /tmp is copy-on-write (tests/sandbox/enter.sh), so
/// the locks taken there are on its overlay's inodes: the host's /tmp users
/// never see them.
const UNPRIVILEGED_HOLDERS: &str = r#"
cat > /tmp/holder.py <<'PY'
import errno, fcntl, os, resource, stat, sys, time
user = sys.argv[1]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
# Keep a few descriptors spare; /etc, /run and /var come first, then as
# much of the host's /tmp as fits.
room = hard - 50
held, locked, succeeded = [], set(), []

class Full(Exception):
    pass

def hold(path):
    if len(held) >= room:
        raise Full
    try:
        st = os.lstat(path)
    except OSError:
        return
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
        return
    for access in (os.O_RDWR, os.O_RDONLY, os.O_WRONLY):
        try:
            fd = os.open(path, access | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)
        except OSError:
            continue
        held.append(fd)
        for how in (fcntl.LOCK_EX, fcntl.LOCK_SH):
            try:
                fcntl.flock(fd, how | fcntl.LOCK_NB)
                locked.add(path)
                break
            except OSError:
                pass
        if stat.S_ISREG(st.st_mode):
            how = fcntl.LOCK_SH if access == os.O_RDONLY else fcntl.LOCK_EX
            try:
                fcntl.lockf(fd, how | fcntl.LOCK_NB)
                locked.add(path)
            except OSError:
                pass
        return

def attack():
    lock = "/run/postmulti.lock"
    mine = "/run/lock/postmulti.lock." + user
    with open(mine, "w") as f:
        f.write("attacker\n")
    tries = [
        ("create", lambda: held.append(os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666))),
        ("open for reading", lambda: held.append(os.open(lock, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK))),
        ("open for writing", lambda: held.append(os.open(lock, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK))),
        ("symlink", lambda: os.symlink("/etc/passwd", lock)),
        ("hard link", lambda: os.link(mine, lock)),
        ("replace", lambda: os.rename(mine, lock)),
        ("remove", lambda: os.unlink(lock)),
    ]
    for name, attempt in tries:
        try:
            attempt()
            succeeded.append(name)
        except OSError:
            pass
    # Lock files of the same name where anyone can create them (nobody
    # creates them, so that their owner does not depend on who came first).
    for d in ("/tmp", "/var/tmp", "/run/lock", "/dev/shm"):
        path = d + "/postmulti.lock"
        if user == "nobody":
            try:
                os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666))
            except OSError:
                pass
        hold(path)

def sweep():
    try:
        for top in ("/etc", "/run", "/var", "/tmp"):
            hold(top)
            for root, dirs, files in os.walk(top):
                for name in dirs + files:
                    hold(os.path.join(root, name))
    except Full:
        pass

for round in ("1", "2"):
    if round == "2":
        while not os.path.exists("/tmp/go2"):
            time.sleep(0.05)
    try:
        attack()
    except Full:
        pass
    sweep()
    with open("/tmp/ready%s.%s" % (round, user), "w") as f:
        f.write("%s: locked at least 500 files: %s; lock file attempts that succeeded: %s\n"
                % (user, "yes" if len(locked) >= 500 else "no (%d)" % len(locked),
                   ", ".join(succeeded) or "none"))
while True:
    time.sleep(1000)
PY
chmod 644 /tmp/holder.py
holders=
for who in nobody postfix; do
    setpriv --reuid=$who --regid=$(id -g $who) --clear-groups /usr/bin/python3 /tmp/holder.py $who &
    holders="$holders $!"
done
ready() { [ -e /tmp/ready$1.nobody ] && [ -e /tmp/ready$1.postfix ]; }
await ready 1
cat /tmp/ready1.nobody /tmp/ready1.postfix
started=$EPOCHREALTIME
timeout 60 postmulti -I postfix-q1 -e create; echo "first create exit $?"
touch /tmp/go2
await ready 2
cat /tmp/ready2.nobody /tmp/ready2.postfix
timeout 60 postmulti -I postfix-q2 -e create; echo "second create exit $?"
echo "both creates done within 30 s: $(within $started 30)"
kill $holders
postmulti -l
"#;

#[test]
fn no_unprivileged_holder_delays_a_root_life_cycle_command() {
    let c = Scenario::new()
        .setup("postmulti -e init")
        .timeout(Duration::from_secs(300))
        .run_shell(&format!("{AWAIT}{UNPRIVILEGED_HOLDERS}"));
    c.assert_same().assert_status(0).assert_stdout(
        "\
nobody: locked at least 500 files: yes; lock file attempts that succeeded: none
postfix: locked at least 500 files: yes; lock file attempts that succeeded: none
first create exit 0
nobody: locked at least 500 files: yes; lock file attempts that succeeded: none
postfix: locked at least 500 files: yes; lock file attempts that succeeded: none
second create exit 0
both creates done within 30 s: yes
-               -               y         /etc/postfix
postfix-q1      -               n         /etc/postfix-q1
postfix-q2      -               n         /etc/postfix-q2
",
    );
}

/// Side by side, after `setup` (which runs after `postmulti -e init`) has
/// made the lock's path odd: ours must give the reference's exit status,
/// stdout, stderr, syslog, files written and `check` output, but for
/// `warning`: where one is due, ours adds exactly that line, first, on
/// stderr (`postmulti: warning: WARNING`) and the same record (priority
/// mail.warning = 20) to syslog, and nothing else.  The caller pins the
/// reference's status and output.
fn goes_on_as_upstream(setup: &str, script: &str, check: &str, warning: Option<&str>) -> Compared {
    let mut c = Scenario::new()
        .setup("postmulti -e init")
        .setup(setup)
        .check(check)
        .timeout(Duration::from_secs(180))
        .run_shell(script);
    if let Some(w) = warning {
        let line = format!("postmulti: warning: {w}\n");
        let Some(rest) = c.ours.stderr.strip_prefix(line.as_bytes()) else {
            panic!(
                "ours' stderr does not begin with {line:?}\n{}",
                c.ours.describe()
            );
        };
        c.ours.stderr = rest.to_vec();
        let record = format!("<20>TIME postmulti[PID]: warning: {w}");
        let records = |o: &Outcome| {
            o.syslog
                .iter()
                .filter(|r| normalize_syslog(r).1 == record)
                .count()
        };
        assert_eq!(records(&c.ours), 1, "syslog of ours\n{}", c.ours.describe());
        assert_eq!(records(&c.reference), 0);
        c.ours.syslog.retain(|r| normalize_syslog(r).1 != record);
    }
    c.assert_same();
    c
}

/// A create and a list, run by root after the lock's path was made odd.
const CREATE: &str = "postmulti -I postfix-q -e create; echo \"create exit $?\"; postmulti -l";

/// What CREATE prints when the create works.
const CREATED: &str = "create exit 0\n\
-               -               y         /etc/postfix\n\
postfix-q       -               n         /etc/postfix-q\n";

/// What is at the lock's path, for the checks: that ours left it as it was.
const LOCK_PATH_AFTER: &str = "stat -c '%F %a %u %h' /run/postmulti.lock 2>&1";

#[test]
fn a_read_only_run_goes_on_silently() {
    // ProtectSystem=strict, a read-only container: no lock file can be made.
    goes_on_as_upstream(
        "mount --bind /run /run; mount -o remount,bind,ro /run",
        CREATE,
        "touch /run/probe 2>&1 | sed 's/^touch: //'",
        None,
    )
    .assert_status(0)
    .assert_stderr("")
    .assert_stdout(CREATED)
    .assert_checks("cannot touch '/run/probe': Read-only file system\n[check 0: exit 0]\n");
}

#[test]
fn an_existing_lock_file_on_a_read_only_run_still_serializes() {
    // Read-only keeps the file from being made, not from being locked.
    let o = Scenario::new()
        .setup("postmulti -e init")
        .setup(
            "install -m 600 /dev/null /run/postmulti.lock; \
             mount --bind /run /run; mount -o remount,bind,ro /run",
        )
        .timeout(Duration::from_secs(120))
        .run_shell_ours(&format!(
            "{AWAIT}{}",
            r#"
flock /run/postmulti.lock sh -c 'until [ -e /dev/shm/release ]; do sleep 0.1; done' & holder=$!
ino=$(stat -c %i /run/postmulti.lock)
await grep -q "FLOCK  *ADVISORY  *WRITE $holder [0-9a-f:]*:$ino " /proc/locks
script -qfec 'postmulti -I postfix-q -e create' /dev/null >/dev/shm/err & creator=$!
await grep -q waiting /dev/shm/err
touch /dev/shm/release
wait $creator; echo "create exit $?"
tr -d '\r' </dev/shm/err | sed "s/pid $holder)/pid HOLDER)/"
touch /run/probe 2>&1 | sed 's/^touch: //'
"#
        ));
    o.assert_status(0).assert_stdout(format!(
        "create exit 0\n{}cannot touch '/run/probe': Read-only file system\n",
        waiting_line("HOLDER")
    ));
}

#[test]
fn a_missing_run_goes_on_silently() {
    // A minimal chroot: the sandbox's /run overlay is unmounted and the
    // directory under it removed (from the sandbox's copy-on-write root).
    goes_on_as_upstream(
        "umount -l /run; rm -rf /run",
        CREATE,
        "ls -d /run 2>&1 | sed 's/^ls: //'",
        None,
    )
    .assert_status(0)
    .assert_stderr("")
    .assert_stdout(CREATED)
    .assert_checks("cannot access '/run': No such file or directory\n[check 0: exit 0]\n");
}

#[test]
fn a_run_of_another_user_goes_on_with_a_warning() {
    // In the initial user namespace every owner is mapped: uid 12345 owns
    // it for real, and could plant anything there.  (A user namespace's
    // unmapped owner, shown as the overflow uid, is silent: the test
    // below.)
    goes_on_as_upstream(
        "chown 12345 /run",
        CREATE,
        "stat -c '%u %a' /run",
        Some("life-cycle lock directory /run is owned by uid 12345, not by root; going on without it"),
    )
    .assert_status(0)
    .assert_stderr("")
    .assert_stdout(CREATED)
    .assert_checks("12345 755\n[check 0: exit 0]\n");
}

/// A shell function, `in_a_user_namespace COMMAND...`: runs COMMAND as
/// root of a user namespace that maps uids and gids 0 to 65533 to
/// themselves, so that a file of uid 200000 shows as the overflow uid,
/// 65534, as the host's /run does in a container.  The sandbox is a chroot,
/// and the kernel refuses a user namespace to a chrooted process (EPERM),
/// so it first leaves the chroot for the root of the sandbox's mount
/// namespace (the classic way: chroot into a subdirectory, chdir past the
/// root; nothing is written there) and, in a mount namespace of its own,
/// pivot_roots into the sandbox's root again, which is then that
/// namespace's root, not a chroot.  Everything COMMAND writes still goes
/// to the sandbox's copy-on-write overlays (the driver's work directory is
/// the directory of this script, $0).
const IN_A_USER_NAMESPACE: &str = r#"
in_a_user_namespace() {
    python3 - "$(dirname "$0")" "$@" <<'PY'
import os, sys
# What os.execvp() imports lazily, imported while this root's library is
# still at hand (the host's python may differ from a release root's).
import warnings
work, command = sys.argv[1], sys.argv[2:]
os.makedirs("/.escape", exist_ok=True)
os.chroot("/.escape")
for _ in range(64):
    os.chdir("..")
os.chroot(".")
pivot = r"""
set -e
work=$1; shift
mkdir -p "$work/root/.old"
cd "$work/root"
pivot_root . .old
umount -l /.old
rmdir /.old /.escape
cd /
exec "$@"
"""
mapped = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
ready, go = os.pipe(), os.pipe()
pid = os.fork()
if pid == 0:
    if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER
        os.write(2, b"unshare(CLONE_NEWUSER) failed\n")
        os._exit(99)
    os.write(ready[1], b"x")
    os.read(go[0], 1)
    os.execvp(sys.argv[1], sys.argv[1:])
os.close(ready[1])
if os.read(ready[0], 1) == b"x":
    for m in ("uid_map", "gid_map"):
        with open("/proc/%d/%s" % (pid, m), "w") as f:
            f.write("0 0 65534\n")
    os.write(go[1], b"x")
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""
os.execvp("unshare", ["unshare", "--mount", "--propagation", "private", "sh", "-c", pivot, "sh", work,
                      "python3", "-c", mapped] + command)
PY
}
"#;

#[test]
fn a_run_of_an_unmapped_owner_in_a_user_namespace_goes_on_silently() {
    // A container given the host's /run: its owner is no one the namespace
    // maps, shown as the overflow uid.  Ours says nothing (src/lock.rs:
    // not the initial user namespace, and the owner is the overflow uid).
    goes_on_as_upstream(
        "chown 200000 /run",
        &format!(
            "{IN_A_USER_NAMESPACE}\
             in_a_user_namespace sh -c 'stat -c \"/run: %u %a\" /run; \
             sed \"s/  */ /g; s/^ //\" /proc/self/uid_map; {CREATE}'"
        ),
        "stat -c '%u %a' /run",
        None,
    )
    .assert_status(0)
    .assert_stderr("")
    .assert_stdout(format!("/run: 65534 755\n0 0 65534\n{CREATED}"))
    .assert_checks("200000 755\n[check 0: exit 0]\n");
}

#[test]
fn a_run_others_can_write_goes_on_with_a_warning() {
    goes_on_as_upstream(
        "chmod 1777 /run",
        CREATE,
        "stat -c '%u %a' /run; ls -A /run | grep -c postmulti.lock",
        Some("life-cycle lock directory /run is writable by group or other (mode 1777); going on without it"),
    )
    .assert_status(0)
    .assert_stderr("")
    .assert_stdout(CREATED)
    .assert_checks("0 1777\n0\n[check 0: exit 1]\n");
}

#[test]
fn what_another_user_plants_in_a_run_others_can_write_costs_nothing() {
    // With /run mode 1777, nobody and the mail owner can plant at the lock's
    // path: a symbolic link to a file of root's, or a FIFO of their own.
    // Root's create warns about the directory, opens nothing there, and
    // does what the reference does.
    for (who, plant, after) in [
        (
            "nobody",
            "ln -s /var/tmp/precious /run/postmulti.lock",
            "symbolic link 777 65534 1",
        ),
        (
            "postfix",
            "mkfifo -m 666 /run/postmulti.lock",
            "fifo 666 POSTFIX 1",
        ),
    ] {
        let c = goes_on_as_upstream(
            &format!(
                "printf 'precious\\n' > /var/tmp/precious; chmod 1777 /run\n\
                 setpriv --reuid={who} --regid=$(id -g {who}) --clear-groups sh -c '{plant}'"
            ),
            CREATE,
            &format!(
                "{LOCK_PATH_AFTER} | sed \"s/ $(id -u postfix) / POSTFIX /\"; cat /var/tmp/precious"
            ),
            Some(
                "life-cycle lock directory /run is writable by group or other (mode 1777); going on without it",
            ),
        );
        c.assert_status(0)
            .assert_stdout(CREATED)
            .assert_checks(format!("{after}\nprecious\n[check 0: exit 0]\n"));
    }
}

#[test]
fn a_lock_file_others_can_read_goes_on_with_a_warning() {
    goes_on_as_upstream(
        "install -m 644 /dev/null /run/postmulti.lock",
        CREATE,
        LOCK_PATH_AFTER,
        Some("life-cycle lock /run/postmulti.lock has mode 0644, not 0600; going on without it"),
    )
    .assert_status(0)
    .assert_stdout(CREATED)
    .assert_checks("regular empty file 644 0 1\n[check 0: exit 0]\n");
}

#[test]
fn a_symlink_at_the_lock_path_goes_on_with_a_warning() {
    // The attacker hopes root opens, truncates or writes its target.
    goes_on_as_upstream(
        "printf 'precious\\n' > /var/tmp/precious; ln -s /var/tmp/precious /run/postmulti.lock",
        CREATE,
        &format!("{LOCK_PATH_AFTER}; cat /var/tmp/precious"),
        Some("life-cycle lock /run/postmulti.lock is a symbolic link, not a regular file; going on without it"),
    )
    .assert_status(0)
    .assert_stdout(CREATED)
    .assert_checks("symbolic link 777 0 1\nprecious\n[check 0: exit 0]\n");
}

#[test]
fn a_dangling_symlink_at_the_lock_path_goes_on_with_a_warning() {
    // ... or creates it.
    goes_on_as_upstream(
        "ln -s /var/tmp/created-by-root /run/postmulti.lock",
        CREATE,
        &format!("{LOCK_PATH_AFTER}; ls /var/tmp/created-by-root 2>&1 | sed 's/^ls: //'"),
        Some("life-cycle lock /run/postmulti.lock is a symbolic link, not a regular file; going on without it"),
    )
    .assert_status(0)
    .assert_stdout(CREATED)
    .assert_checks(
        "symbolic link 777 0 1\ncannot access '/var/tmp/created-by-root': No such file or directory\n[check 0: exit 0]\n",
    );
}

#[test]
fn a_fifo_at_the_lock_path_goes_on_with_a_warning() {
    // A reader waits on the FIFO: had ours opened it for writing, it would
    // have got its end of file (and exited).
    goes_on_as_upstream(
        "mkfifo -m 600 /run/postmulti.lock",
        "cat /run/postmulti.lock > /dev/shm/read & reader=$!\n\
         timeout 60 postmulti -I postfix-q -e create; echo \"create exit $?\"\n\
         sleep 0.5; kill -0 $reader && echo \"the reader still waits for a writer\"\n\
         kill $reader; wc -c < /dev/shm/read; postmulti -l",
        LOCK_PATH_AFTER,
        Some("life-cycle lock /run/postmulti.lock is a FIFO, not a regular file; going on without it"),
    )
    .assert_status(0)
    .assert_stdout(
        "create exit 0\nthe reader still waits for a writer\n0\n\
-               -               y         /etc/postfix\n\
postfix-q       -               n         /etc/postfix-q\n",
    )
    .assert_checks("fifo 600 0 1\n[check 0: exit 0]\n");
}

#[test]
fn a_directory_at_the_lock_path_goes_on_with_a_warning() {
    goes_on_as_upstream(
        "mkdir -m 700 /run/postmulti.lock",
        CREATE,
        LOCK_PATH_AFTER,
        Some("life-cycle lock /run/postmulti.lock is a directory, not a regular file; going on without it"),
    )
    .assert_status(0)
    .assert_stdout(CREATED)
    .assert_checks("directory 700 0 2\n[check 0: exit 0]\n");
}

#[test]
fn a_lock_file_of_another_user_goes_on_with_a_warning() {
    goes_on_as_upstream(
        "printf 'attacker\\n' > /run/postmulti.lock; chmod 600 /run/postmulti.lock; chown nobody /run/postmulti.lock",
        CREATE,
        &format!("{LOCK_PATH_AFTER}; cat /run/postmulti.lock"),
        Some("life-cycle lock /run/postmulti.lock is owned by uid 65534, not by root; going on without it"),
    )
    .assert_status(0)
    .assert_stdout(CREATED)
    .assert_checks("regular file 600 65534 1\nattacker\n[check 0: exit 0]\n");
}

#[test]
fn a_lock_file_with_a_second_link_goes_on_with_a_warning() {
    goes_on_as_upstream(
        "install -m 600 /dev/null /run/postmulti.lock; ln /run/postmulti.lock /run/second-link",
        CREATE,
        LOCK_PATH_AFTER,
        Some("life-cycle lock /run/postmulti.lock has 2 links, not 1; going on without it"),
    )
    .assert_status(0)
    .assert_stdout(CREATED)
    .assert_checks("regular empty file 600 0 2\n[check 0: exit 0]\n");
}

#[test]
fn the_lock_never_pre_empts_upstreams_own_checks() {
    // Upstream refuses to destroy the primary before doing anything; the
    // lock, unusable here for either reason, must not speak first (a
    // read-only /run) or instead (a symbolic link: the warning, then
    // upstream's words).
    let destroy = "postmulti -e destroy -i -; echo \"destroy exit $?\"";
    for (setup, warning) in [
        ("mount --bind /run /run; mount -o remount,bind,ro /run", None),
        (
            "ln -s /var/tmp/x /run/postmulti.lock",
            Some("life-cycle lock /run/postmulti.lock is a symbolic link, not a regular file; going on without it"),
        ),
    ] {
        goes_on_as_upstream(setup, destroy, "true", warning)
            .assert_status(0)
            .assert_stdout("destroy exit 1\n")
            .assert_stderr("postmulti: fatal: Cannot remove the primary instance\n");
    }
}

#[test]
fn a_nested_command_that_lost_the_descriptor_does_not_wait_for_its_ancestor() {
    // The wrapped helper of `-e create` runs, the first time only, another
    // `postmulti -e create` the way sudo would: every descriptor from 3 up
    // closed, so the lock's is gone.  The outer command (now the wrapper,
    // same pid) holds the lock and waits for the nested one: ours must see
    // that the holder is its ancestor and go on, as the C program does.
    // `timeout 60` turns a regression into a failure, not a hang.
    let wrapper = r#"
cp /usr/lib/postfix/sbin/postmulti-script /run/real-postmulti-script
cat > /run/wrapper <<'SH'
#!/bin/sh
if [ "$1 $2" = "-e create" ] && [ ! -e /run/nested ]; then
    : > /run/nested
    timeout 60 python3 -c 'import os; os.closerange(3, 65536); os.execv("/usr/sbin/postmulti", ["postmulti", "-e", "create", "-I", "postfix-n2"])' >/dev/null 2>/run/nested.err
    echo "nested exit $?" > /run/nested
fi
exec /run/real-postmulti-script "$@"
SH
chmod 755 /run/wrapper
mount --bind /run/wrapper /usr/lib/postfix/sbin/postmulti-script
"#;
    goes_on_as_upstream(
        wrapper,
        "postmulti -I postfix-n -e create; echo \"create exit $?\"; cat /run/nested /run/nested.err; \
         ls -d /etc/postfix-n*",
        "true",
        None,
    )
    .assert_status(0)
    .assert_stderr("")
    .assert_stdout("create exit 0\nnested exit 0\n/etc/postfix-n\n/etc/postfix-n2\n");
}

#[test]
fn a_command_run_under_flock_of_the_lock_does_not_wait_for_it() {
    // flock -o closes the descriptor before it runs the command: the holder
    // is flock(1) itself, the command's parent.
    goes_on_as_upstream(
        "install -m 600 /dev/null /run/postmulti.lock",
        "timeout 60 flock -o /run/postmulti.lock postmulti -I postfix-q -e create; \
         echo \"create exit $?\"; postmulti -l",
        "true",
        None,
    )
    .assert_status(0)
    .assert_stderr("")
    .assert_stdout(CREATED);
}

#[test]
fn a_caller_other_than_root_goes_on_without_the_lock() {
    // As upstream: postmulti-script reports what the user cannot do.  Root
    // holds the lock meanwhile; the unprivileged command must not wait.
    for who in ["nobody", "postfix"] {
        let c = Scenario::new()
            .setup("postmulti -e init")
            .setup("install -m 600 /dev/null /run/postmulti.lock")
            .timeout(Duration::from_secs(120))
            .run_shell(&format!(
                "{AWAIT}flock /run/postmulti.lock sleep 60 & holder=$!\n\
                 sleep 0.2\n\
                 started=$EPOCHREALTIME\n\
                 timeout 20 setpriv --reuid={who} --regid=$(id -g {who}) --clear-groups \
                 postmulti -I postfix-q -e create; echo \"create exit $?\"\n\
                 echo \"done within 5 s: $(within $started 5)\"\n\
                 kill $holder"
            ));
        c.assert_same()
            .assert_status(0)
            .assert_stdout("create exit 1\ndone within 5 s: yes\n")
            .assert_stderr("mkdir: cannot create directory '/etc/postfix-q': Permission denied\n");
    }
}
