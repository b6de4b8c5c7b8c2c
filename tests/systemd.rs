//! A real systemd, side by side: systemd booted as PID 1
//! (tests/sandbox/boot-systemd.sh) in a copy-on-write root of the
//! reference's release (the host's Debian 12 by default,
//! POSTMULTI_REFERENCE=trixie|sid for another), twice at once:
//!
//! - "ours": this project's .deb (.ci/build-deb of the binary under test)
//!   installed with dpkg before the boot, so /usr/sbin/postmulti is ours and
//!   Debian's is diverted to /usr/sbin/postmulti.postfix;
//! - "reference": the root as it is, Debian's postmulti.
//!
//! In each, a unit of the test runs the same script ([`SCENARIO`]) against
//! Debian's own units: `postmulti -e init`, three instances (postfix-out
//! enabled, postfix-in disabled, later postfix-bad, enabled and broken),
//! `systemctl daemon-reload` (Debian 12's postfix-instance-generator makes
//! a postfix@INSTANCE unit of each), start, reload, stop and restart of
//! postfix.service and the instances' units, a unit that fails (a
//! queue_directory that does not exist; a main.cf postconf cannot read),
//! and `postfix start|status|stop` from a login shell (a scope without
//! INVOCATION_ID: Debian 13 and later redirect `postfix start` to
//! systemctl there).  Debian 12's units run `postmulti -i INSTANCE -p
//! start|stop|reload` and configure-instance.sh (`postmulti -i INSTANCE -x
//! postconf`); Debian 13's run postfix with MAIL_CONFIG set, and postmulti
//! only from the shell.
//!
//! Compared: the transcript (every command, its output and exit status;
//! `systemctl is-active` and `show -p ActiveState,SubState,Result,
//! ExecMainStatus` of every unit; the generator's links; each instance's
//! master daemon and the cgroup (unit) it runs in) exactly, and the
//! journal from the start of the script as a multiset of lines (unit,
//! `UNIT=`, identifier, transport, priority, message), after `journalctl
//! --sync`, with only what varies from boot to boot masked
//! ([`normalize_journal`]).
mod sandboxed;
use sandboxed::*;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Run before the boot (boot-systemd.sh's WORKDIR/setup.sh): the target
/// the sandbox boots (basic.target and the test, nothing the root's own
/// multi-user.target wants), the unit that runs the scenario, and, for
/// ours, the .deb installed.
const SETUP: &str = r###"
cat >/etc/systemd/system/postmulti-test.target <<EOF
[Unit]
Description=postmulti side-by-side test
Requires=basic.target
After=basic.target
Wants=postmulti-test.service
AllowIsolate=yes
EOF
cat >/etc/systemd/system/postmulti-test.service <<EOF
[Unit]
Description=postmulti side-by-side test scenario
After=basic.target
[Service]
Type=exec
Environment=WORK=$WORK
ExecStart=/bin/bash $WORK/scenario.sh
StandardOutput=file:$WORK/transcript
StandardError=inherit
EOF
ln -sf /etc/systemd/system/postmulti-test.target /etc/systemd/system/default.target
if [ -n "${DEB:-}" ]; then
    # Skip man-db's index rebuild (seconds).
    rm -f /var/lib/man-db/auto-update
    dpkg -i "$DEB"
    dpkg-divert --list postmulti-rs
fi
"###;

/// The scenario, run by postmulti-test.service as root under the booted
/// systemd.  Its stdout is the transcript; it ends with the journal.
pub const SCENARIO: &str = r###"
set -u
export LC_ALL=C
cd /
# boot-systemd.sh ends the boot when this file appears: also when the
# script stops early (the test then misses the journal).
trap 'touch "$WORK/done"' EXIT
n=0
step() { echo; echo "## $*"; }
# A command, its output (stdout and stderr together) and exit status.
run() {
    echo "\$ $*"
    "$@" >"$WORK/cmd.out" 2>&1 </dev/null
    local rc=$?
    sed 's/^/| /' "$WORK/cmd.out"
    echo "exit $rc"
    idle
}
# systemctl returns when its own job is done; those it pulled in (the stop
# of a PartOf unit) may still run, and a unit whose master was stopped
# behind its back (postfix stop from a shell) runs its ExecStop without a
# job: wait until no job is left and no unit is on its way.
idle() {
    local i
    for i in $(seq 300); do
        if [ -z "$(systemctl list-jobs --no-legend 2>/dev/null)" ] &&
            ! systemctl show -p ActiveState $units | grep -qE '=(activating|deactivating|reloading|refreshing)$'; then
            return 0
        fi
        sleep 0.1
    done
    echo "still busy after 30 s:"
    systemctl list-jobs --no-legend
    systemctl show -p Id,ActiveState $units
}
# A command from a login shell: a scope of its own, and no INVOCATION_ID
# (systemd-run --scope sets one; postfix-script of Debian 13 and later
# redirects `postfix start` to systemctl only without it).
login() {
    n=$((n + 1))
    echo "\$ (login shell) $*"
    systemd-run --quiet --scope --unit="login-$n" -- env -u INVOCATION_ID "$@" >"$WORK/cmd.out" 2>&1 </dev/null
    local rc=$?
    sed 's/^/| /' "$WORK/cmd.out"
    echo "exit $rc"
    idle
}
# Files edited just now are re-read by Postfix until they are a second old
# (dict_load_file): backdate them, so no run depends on timing.
settle() {
    find /etc/postfix /etc/postfix-* -maxdepth 1 -name '*.cf' -exec touch -d '-10 seconds' {} + 2>/dev/null || true
}
states() {
    local u
    for u in $units; do
        printf '%s: %s; %s\n' "$u" "$(systemctl is-active "$u")" \
            "$(systemctl show -p ActiveState,SubState,Result,ExecMainStatus "$u" | tr '\n' ' ')"
    done
}
# Each instance's master daemon (its pid file) and the cgroup it is in,
# then the cgroups of all master processes (strays included).
masters() {
    local d q pid p
    for d in /etc/postfix $(postconf -h multi_instance_directories 2>/dev/null); do
        q=$(postconf -c "$d" -h queue_directory 2>/dev/null) || q=/nonexistent
        pid=$(tr -d ' \n' 2>/dev/null <"$q/pid/master.pid") || pid=
        if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = master ]; then
            echo "$d: master in $(sed -n 's/^0:://p' "/proc/$pid/cgroup")"
        else
            echo "$d: no master"
        fi
    done
    for p in $(pgrep -x master); do sed -n 's/^0:://p' "/proc/$p/cgroup"; done | sort | uniq -c |
        sed 's/^ */master processes: /'
}
master_pids() { pgrep -x master | sort -n | tr '\n' ' '; }
no_masters() {
    local i
    for i in $(seq 100); do pgrep -x master >/dev/null || return 0; sleep 0.1; done
}
generated() {
    echo "generated: $(ls /run/systemd/generator/postfix.service.wants 2>/dev/null | tr '\n' ' ')"
}

if [ -x /lib/systemd/system-generators/postfix-instance-generator ]; then
    # Debian 12: postfix.service is a oneshot; postfix@INSTANCE.service
    # (INSTANCE a multi_instance_name, - the primary) runs postmulti -i
    # INSTANCE -p, wanted by postfix.service through the generator.
    primary=postfix@-.service out=postfix@postfix-out.service
    in=postfix@postfix-in.service bad=postfix@postfix-bad.service
    units="postfix.service $primary $out $in $bad"
else
    # Debian 13 and later: postfix.service is the primary,
    # postfix@NAME.service the instance in /etc/postfix-NAME (MAIL_CONFIG).
    primary=postfix.service out=postfix@out.service
    in=postfix@in.service bad=postfix@bad.service
    units="postfix.service $out $in $bad"
fi

# Which postmulti runs (not in the transcript: the two differ).
md5sum /usr/sbin/postmulti | cut -d' ' -f1 >"$WORK/identity"

step boot
echo "system: $(systemctl is-system-running --wait)"
systemd-cat -t postmulti-test echo "scenario starts"
journalctl --sync
echo "postmulti: $(command -v postmulti)"
generated
states
masters

step "multi-instance set up with postmulti"
run postmulti -e init
run postmulti -I postfix-out -G mta -e create
run postmulti -i postfix-out -e enable
run postmulti -I postfix-in -G mta -e create
settle
run postmulti -l
run systemctl daemon-reload
generated
states

step start
run systemctl start postfix.service
run systemctl start $primary $out
states
masters

step reload
before=$(master_pids)
run systemctl reload postfix.service
run systemctl reload $out
states
masters
[ "$(master_pids)" = "$before" ] && echo "same master processes" || echo "other master processes"

step stop
run systemctl stop $out
states
masters
run systemctl stop postfix.service
states
masters

step restart
run systemctl start postfix.service $out
before=$(master_pids)
run systemctl restart postfix.service
run systemctl restart $out
states
masters
[ "$(master_pids)" = "$before" ] && echo "same master processes" || echo "other master processes"
run systemctl stop postfix.service
states
masters

step "an enabled instance whose queue_directory does not exist"
run postmulti -I postfix-bad -G mta -e create
run postmulti -i postfix-bad -e enable
cp /etc/postfix-bad/main.cf "$WORK/bad-main.cf"
echo "queue_directory = /nonexistent" >>/etc/postfix-bad/main.cf
settle
run systemctl daemon-reload
generated
run systemctl start postfix.service
run systemctl start $out
run systemctl start $bad
states
masters
run systemctl stop postfix.service
states
masters

step "an enabled instance whose main.cf postconf cannot read"
cp "$WORK/bad-main.cf" /etc/postfix-bad/main.cf
echo "this line is broken" >>/etc/postfix-bad/main.cf
settle
run systemctl daemon-reload
generated
run postmulti -l
run systemctl restart $bad
states
masters
login postfix start
states
masters
login postfix stop
no_masters
masters

step "the broken instance repaired and disabled"
cp "$WORK/bad-main.cf" /etc/postfix-bad/main.cf
settle
run postmulti -i postfix-bad -e disable
run systemctl daemon-reload
generated
run systemctl reset-failed
states

step "postfix start, status and stop from a login shell"
login postfix start
states
masters
login postfix status
login postfix stop
no_masters
states
masters

step journal
journalctl --sync
journalctl -o json --no-pager | python3 -c '
import json, sys
def text(v):
    if isinstance(v, list):
        if all(isinstance(c, int) for c in v):
            return bytes(v).decode("utf-8", "replace")
        return "|".join(text(c) for c in v)
    return v
on = False
for line in sys.stdin:
    e = json.loads(line)
    f = lambda k: text(e.get(k, ""))
    if not on:
        on = f("SYSLOG_IDENTIFIER") == "postmulti-test" and f("MESSAGE") == "scenario starts"
        continue
    print("\t".join([f("_SYSTEMD_UNIT"), f("UNIT"), f("SYSLOG_IDENTIFIER"), f("_TRANSPORT"),
                     f("PRIORITY"), f("MESSAGE").replace("\\", "\\\\").replace("\n", "\\n")]))
' >"$WORK/journal.new"
mv "$WORK/journal.new" "$WORK/journal"
"###;

/// One boot: its transcript and journal lines (normalized), and where to
/// look (the work directory, kept with POSTMULTI_KEEP=1).
struct Boot {
    which: &'static str,
    status: i32,
    transcript: String,
    journal: Vec<String>,
    work: PathBuf,
    stderr: String,
    seconds: f64,
}

/// Boots systemd in a sandbox of WORK, with our package DEB installed (or
/// the C postmulti without it), runs the scenario and collects the result.
fn boot(which: &'static str, work: &Path, deb: Option<&Path>) -> Boot {
    require_root();
    let root = reference_root().unwrap_or_else(|| PathBuf::from("/"));
    assert!(
        root.join("lib/systemd/systemd").exists(),
        "no systemd in {}: install the Debian package systemd (.ci/run does; tests/sandbox/make-root.sh puts it in a release's root)",
        root.display()
    );
    std::fs::write(work.join("scenario.sh"), SCENARIO).unwrap();
    let mut setup = format!("WORK={}\n", shell_quote(work.to_str().unwrap()));
    if let Some(deb) = deb {
        setup.push_str(&format!("DEB={}\n", shell_quote(deb.to_str().unwrap())));
    }
    setup.push_str(SETUP);
    std::fs::write(work.join("setup.sh"), setup).unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("tests/sandbox/boot-systemd.sh"))
        .arg(work)
        .env("BOOT_TIMEOUT", "240")
        .stdin(std::process::Stdio::null());
    if let Some(root) = reference_root() {
        cmd.env("SANDBOX_ROOT", root);
    }
    let start = Instant::now();
    let out = cmd.output().expect("run tests/sandbox/boot-systemd.sh");
    let read = |f: &str| std::fs::read_to_string(work.join(f)).unwrap_or_default();
    Boot {
        which,
        status: out.status.code().unwrap_or(-1),
        transcript: String::from_utf8(mask_pids(&drop_waiting_lines(
            read("transcript").as_bytes(),
        )))
        .unwrap(),
        journal: read("journal")
            .lines()
            .filter_map(normalize_journal)
            .collect::<Vec<_>>(),
        work: work.to_path_buf(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        seconds: start.elapsed().as_secs_f64(),
    }
}

impl Boot {
    /// The md5 of the /usr/sbin/postmulti that ran.
    fn identity(&self) -> String {
        std::fs::read_to_string(self.work.join("identity"))
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    /// Panics, with what there is to see, unless the scenario ran to its end.
    fn assert_complete(&self) {
        assert!(
            self.status == 0 && self.work.join("journal").exists(),
            "{}: the boot or the scenario did not complete (boot-systemd.sh exit {}):\n{}\n--- setup.log:\n{}\n--- transcript:\n{}\n--- console (end):\n{}",
            self.which,
            self.status,
            self.stderr,
            std::fs::read_to_string(self.work.join("setup.log")).unwrap_or_default(),
            self.transcript,
            tail(&std::fs::read_to_string(self.work.join("console")).unwrap_or_default(), 40),
        );
    }
}

/// The md5 of usr/sbin/postmulti in an md5sums file.
fn md5_of(md5sums: &str) -> String {
    md5sums
        .lines()
        .find_map(|l| l.strip_suffix("  usr/sbin/postmulti"))
        .unwrap_or_else(|| panic!("no usr/sbin/postmulti in md5sums:\n{md5sums}"))
        .to_string()
}

fn tail(s: &str, n: usize) -> String {
    let l: Vec<&str> = s.lines().collect();
    l[l.len().saturating_sub(n)..].join("\n")
}

/// Masks, in a journal line, what differs from boot to boot and nothing
/// else.  systemd's "UNIT: Consumed N CPU time" is dropped (None): it is
/// logged at info level only when the CPU time passed a threshold (1 s in
/// systemd 252), which on a shared machine is load; process ids
/// ("PID: N" of postfix status, "process N" and "client PID N" of
/// systemd), the time systemd took to reload, and the unit of a
/// syslog record: journald reads it from /proc when the record arrives, so
/// a short-lived sender (postfix-script, postmulti) has often exited by
/// then and the record has no unit (the stdout stream of a unit and
/// systemd's own records always have theirs).  postfix-script's "waiting
/// for the Postfix mail system to terminate" is dropped (None): it logs it
/// only when master has not exited by the time it looks.  systemd 262's
/// "Failed to read pids.max for control group ..." is dropped too: it is
/// about the sandbox's cgroup2 (no pids controller: the host's stays with
/// cgroup v1), logged twice when a unit stops, but not at every stop: its
/// count varies from boot to boot of one scenario (24 and 26 seen).
fn normalize_journal(line: &str) -> Option<String> {
    if line.ends_with("waiting for the Postfix mail system to terminate")
        || line.contains(": Consumed ")
        || line.contains(": Failed to read pids.max for control group ")
    {
        return None;
    }
    let mut f: Vec<&str> = line.splitn(6, '\t').collect();
    if f.len() == 6 && f[3] == "syslog" {
        f[0] = "";
    }
    let mut s = f.join("\t");
    for key in [
        "PID: ",
        "PID ",
        "process ",
        "pid ",
        "Reloading finished in ",
    ] {
        s = mask_number_after(&s, key);
    }
    Some(s)
}

fn mask_number_after(s: &str, key: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(key) {
        out.push_str(&rest[..i + key.len()]);
        rest = &rest[i + key.len()..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            out.push('N');
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// `diff -u` of the normalized transcripts (kept in the work directories).
fn diff(reference: &Boot, ours: &Boot) -> String {
    let r = reference.work.join("transcript.normalized");
    let o = ours.work.join("transcript.normalized");
    std::fs::write(&r, &reference.transcript).unwrap();
    std::fs::write(&o, &ours.transcript).unwrap();
    let out = Command::new("diff")
        .args(["-u", "--label", "reference", "--label", "ours"])
        .arg(&r)
        .arg(&o)
        .output()
        .expect("run diff");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The lines of `a` not in `b`, as a multiset (with counts).
fn missing(a: &[String], b: &[String]) -> Vec<String> {
    let mut count: BTreeMap<&str, i64> = BTreeMap::new();
    for l in a {
        *count.entry(l).or_default() += 1;
    }
    for l in b {
        *count.entry(l).or_default() -= 1;
    }
    count
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(l, n)| {
            if n > 1 {
                format!("{n}x {l}")
            } else {
                l.to_string()
            }
        })
        .collect()
}

#[test]
fn debian_units_under_systemd_side_by_side() {
    require_root();
    require_program("dpkg", "dpkg");
    let ours_work = workdir("pm-systemd-ours-");
    let reference_work = workdir("pm-systemd-reference-");
    let deb = build_deb(&ours_work);
    let (reference, ours) = std::thread::scope(|s| {
        let r = s.spawn(|| boot("reference", &reference_work, None));
        let o = s.spawn(|| boot("ours", &ours_work, Some(&deb)));
        (r.join().unwrap(), o.join().unwrap())
    });
    eprintln!(
        "boots: reference {:.1} s, ours {:.1} s",
        reference.seconds, ours.seconds
    );
    reference.assert_complete();
    ours.assert_complete();
    // The binaries that ran: Debian's (its md5sums in the root), and the
    // one in the .deb (its md5sums).
    let root = reference_root().unwrap_or_else(|| PathBuf::from("/"));
    let debian =
        md5_of(&std::fs::read_to_string(root.join("var/lib/dpkg/info/postfix.md5sums")).unwrap());
    let packaged = md5_of(&String::from_utf8_lossy(
        &Command::new("dpkg-deb")
            .arg("--info")
            .arg(&deb)
            .arg("md5sums")
            .output()
            .unwrap()
            .stdout,
    ));
    assert_eq!(reference.identity(), debian, "the reference's postmulti");
    assert_eq!(ours.identity(), packaged, "our postmulti (the .deb's)");

    // What the reference did, pinned, so that both failing alike (no
    // systemd, no units, no daemons) cannot pass.
    let r = &reference.transcript;
    for line in [
        "postmulti: /usr/sbin/postmulti",
        "$ postmulti -i postfix-out -e enable",
        "$ systemctl start postfix.service",
    ] {
        assert!(
            r.lines().any(|l| l == line),
            "the reference's transcript lacks {line:?}:\n{r}"
        );
    }
    let running = r
        .lines()
        .filter(|l| l.starts_with("/etc/postfix-out: master in /system.slice/"))
        .count();
    assert!(
        running >= 2,
        "postfix-out's master never ran in a unit of the reference:\n{r}"
    );
    assert!(
        r.lines().any(|l| l.contains("Result=exit-code")),
        "no unit of the reference failed:\n{r}"
    );

    let mut failures = Vec::new();
    if reference.transcript != ours.transcript {
        failures.push(format!(
            "transcripts differ (- reference, + ours; normalized):\n{}",
            diff(&reference, &ours)
        ));
    }
    let only_reference = missing(&reference.journal, &ours.journal);
    let only_ours = missing(&ours.journal, &reference.journal);
    if !only_reference.is_empty() || !only_ours.is_empty() {
        failures.push(format!(
            "journals differ (unit, UNIT=, identifier, transport, priority, message):\n  only the reference's:\n{}\n  only ours:\n{}",
            only_reference
                .iter()
                .map(|l| format!("    {l}\n"))
                .collect::<String>(),
            only_ours
                .iter()
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
        ));
    }
    assert!(
        failures.is_empty(),
        "systemd side by side ({}; work dirs {} and {}, POSTMULTI_KEEP=1 keeps them):\n{}",
        reference_release().unwrap_or_else(|| "host".into()),
        reference.work.display(),
        ours.work.display(),
        failures.join("\n")
    );
}
