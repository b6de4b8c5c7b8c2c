//! The Debian package built by .ci/build-deb, installed and removed with
//! dpkg in a sandbox whose /etc, /var, /run AND /usr are overlays (nothing
//! on the host changes).
//!
//! The package is the one named by POSTMULTI_DEB: `.ci/run` builds it with
//! `.ci/build-deb` (the release profile) before the suite, and every test
//! then runs its binary (POSTMULTI_OURS), so this test installs the very
//! package whose binary the others compared with Debian's; it checks that
//! its /usr/sbin/postmulti is byte for byte the binary under test.  Without
//! POSTMULTI_DEB (by hand: `cargo test --test package`) the .deb is built
//! here from the binary under test (`.ci/build-deb --binary`, stripped).
//! The test checks the package's contents and metadata, that installing it
//! diverts Postfix's postmulti and manual page (the C program stays runnable
//! as /usr/sbin/postmulti.postfix), that three instances are created,
//! enabled, started, reported and stopped through it with `postfix
//! start|status|stop`, and that removing it puts Postfix's files back and
//! leaves no diversion.
mod sandboxed;
use sandboxed::*;

use std::process::Command;

/// The package to test: $POSTMULTI_DEB, whose /usr/sbin/postmulti must be
/// the binary under test, or one built into `dir` from that binary (named
/// for this version and the machine's architecture); returns its path.
fn built_deb(dir: &std::path::Path) -> String {
    let deb = match std::env::var("POSTMULTI_DEB") {
        Ok(deb) if !deb.is_empty() => {
            let unpacked = dir.join("unpacked");
            let status = Command::new("dpkg-deb")
                .arg("-x")
                .arg(&deb)
                .arg(&unpacked)
                .status()
                .unwrap();
            assert!(status.success(), "dpkg-deb -x {deb}");
            let packaged = std::fs::read(unpacked.join("usr/sbin/postmulti")).unwrap();
            let tested = std::fs::read(OURS).unwrap();
            assert!(
                packaged == tested,
                "POSTMULTI_DEB={deb} does not ship the binary under test ({OURS})"
            );
            deb
        }
        _ => build_deb(dir).to_string_lossy().into_owned(),
    };
    assert!(
        deb.ends_with(&format!(
            "postmulti-rs_{}-1_{}.deb",
            env!("CARGO_PKG_VERSION"),
            arch()
        )),
        "{deb}"
    );
    deb
}

fn arch() -> String {
    let out = Command::new("dpkg")
        .arg("--print-architecture")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn dpkg_deb(args: &[&str]) -> String {
    let out = Command::new("dpkg-deb").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "dpkg-deb {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn package_contents_and_metadata() {
    let work = workdir("pm-deb-contents-");
    let deb = built_deb(&work);
    let files: Vec<String> = dpkg_deb(&["--contents", &deb])
        .lines()
        .filter(|l| l.starts_with('-'))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            format!("{} {} {}", f[0], f[1], f[5].trim_start_matches('.'))
        })
        .collect();
    assert_eq!(
        files,
        [
            "-rwxr-xr-x root/root /usr/sbin/postmulti",
            "-rw-r--r-- root/root /usr/share/bash-completion/completions/postmulti",
            "-rw-r--r-- root/root /usr/share/doc/postmulti-rs/copyright",
            "-rw-r--r-- root/root /usr/share/fish/vendor_completions.d/postmulti.fish",
            "-rw-r--r-- root/root /usr/share/man/man1/postmulti.1.gz",
            "-rw-r--r-- root/root /usr/share/zsh/vendor-completions/_postmulti",
        ]
    );
    assert_eq!(
        dpkg_deb(&["--field", &deb]).lines().next(),
        Some("Package: postmulti-rs")
    );
    let depends = dpkg_deb(&["--field", &deb, "Depends"]).trim().to_string();
    assert!(depends.starts_with("postfix, libc6"), "Depends: {depends}");
    let version = dpkg_deb(&["--field", &deb, "Version"]).trim().to_string();
    assert_eq!(version, format!("{}-1", env!("CARGO_PKG_VERSION")));
    // Maintainer scripts: exactly the diversions, added before unpacking and
    // removed after removal.
    let control = work.join("control");
    let out = Command::new("dpkg-deb")
        .arg("--control")
        .arg(&deb)
        .arg(&control)
        .status()
        .unwrap();
    assert!(out.success());
    let preinst = std::fs::read_to_string(control.join("preinst")).unwrap();
    let postrm = std::fs::read_to_string(control.join("postrm")).unwrap();
    for line in [
        "dpkg-divert --package postmulti-rs --add --rename \\\n        --divert /usr/sbin/postmulti.postfix /usr/sbin/postmulti",
        "dpkg-divert --package postmulti-rs --add --rename \\\n        --divert /usr/share/man/man1/postmulti.postfix.1.gz /usr/share/man/man1/postmulti.1.gz",
    ] {
        assert!(preinst.contains(line), "preinst lacks {line}:\n{preinst}");
        let remove = line.replace("--add", "--remove");
        assert!(postrm.contains(&remove), "postrm lacks {remove}:\n{postrm}");
    }
    assert!(
        postrm.contains("remove | abort-install | disappear)"),
        "{postrm}"
    );
    for script in ["preinst", "postrm"] {
        let status = Command::new("sh")
            .arg("-n")
            .arg(control.join(script))
            .status()
            .unwrap();
        assert!(status.success(), "sh -n {script}");
    }
}

/// Install, run three instances through it, remove.
const LIFE: &str = r###"
set -eu
sum() { sha256sum "$1" | cut -d' ' -f1; }
step() { echo "## $*"; }

# Skip man-db's index rebuild on install and removal (seconds each); man
# still finds pages on disk.
rm -f /var/lib/man-db/auto-update
# On a host where postmulti-rs is installed already (hostile-host.sh), the
# test starts, as elsewhere, from Debian's postfix alone.
if dpkg-query -W postmulti-rs >/dev/null 2>&1; then dpkg -P postmulti-rs >/dev/null; fi
c_binary=$(sum /usr/sbin/postmulti)
c_manual=$(sum /usr/share/man/man1/postmulti.1.gz)

step install
dpkg -i "$DEB" >/dev/null
dpkg-query -W -f='${Package} ${Status}\n' postmulti-rs
dpkg-divert --list 'postmulti-rs' | sort
test "$(sum /usr/sbin/postmulti.postfix)" = "$c_binary" && echo "C binary diverted intact"
test "$(sum /usr/share/man/man1/postmulti.postfix.1.gz)" = "$c_manual" && echo "C manual diverted intact"
cmp -s /usr/sbin/postmulti /usr/sbin/postmulti.postfix || echo "postmulti replaced"
postmulti --version | head -n 1 | sed 's/built against.*/.../'
zcat /usr/share/man/man1/postmulti.1.gz | grep -c '^\.SH CONCURRENCY'
man -w postmulti postmulti.postfix
/usr/sbin/postmulti.postfix -l
test -f /usr/share/bash-completion/completions/postmulti && test -f /usr/share/zsh/vendor-completions/_postmulti && test -f /usr/share/fish/vendor_completions.d/postmulti.fish && echo completions
bash -c 'source /usr/share/bash-completion/completions/postmulti && complete -p postmulti'
# fish finds the script in its vendor directory by itself.
fish -c 'complete -C "postmulti --completions "'

step instances
postmulti -e init
postmulti -I postfix-a -G mta -e create
postmulti -I postfix-b -G mta -e create
postmulti -i postfix-a -e enable
postmulti -i postfix-b -e enable
postmulti -l

# postfix-script reports only to a terminal: give it one (script(1)).
on_tty() { script -qec "$*" /dev/null | tr -d '\r'; echo "exit ${PIPESTATUS[0]}"; }
step start
on_tty postfix start | sort
echo "masters: $(pgrep -x master | wc -l)"
step status
on_tty postfix status | sed 's/PID: [0-9]*/PID: N/' | sort
step stop
on_tty postfix stop | grep -v waiting | sort
for i in $(seq 100); do pgrep -x master >/dev/null || break; sleep 0.1; done
echo "masters: $(pgrep -x master | wc -l)"

step remove
dpkg -r postmulti-rs >/dev/null
dpkg-query -W -f='${Package} ${Status}\n' postmulti-rs 2>&1 || true
echo "diversions: $(dpkg-divert --list 'postmulti-rs' | wc -l)"
test "$(sum /usr/sbin/postmulti)" = "$c_binary" && echo "C binary back"
test "$(sum /usr/share/man/man1/postmulti.1.gz)" = "$c_manual" && echo "C manual back"
test ! -e /usr/sbin/postmulti.postfix && test ! -e /usr/share/man/man1/postmulti.postfix.1.gz && echo "diverted names gone"
test ! -e /usr/share/bash-completion/completions/postmulti && test ! -e /usr/share/zsh/vendor-completions/_postmulti && test ! -e /usr/share/fish/vendor_completions.d/postmulti.fish && echo "completions gone"
dpkg -S /usr/sbin/postmulti
# Debian's postmulti 3.7 also reports only to a terminal.
on_tty postmulti --version | head -n 1
postmulti -l
step purge
dpkg -P postmulti-rs >/dev/null
dpkg-query -W -f='${Status}\n' postmulti-rs 2>/dev/null || echo "not installed"
echo "diversions: $(dpkg-divert --list 'postmulti-rs' | wc -l)"
test "$(sum /usr/sbin/postmulti)" = "$c_binary" && echo "C binary still there"
"###;

#[test]
fn install_run_three_instances_remove() {
    require_program("dpkg", "dpkg");
    require_program("script", "bsdutils");
    require_program("fish", "fish");
    let work = workdir("pm-deb-life-");
    let deb = built_deb(&work);
    let script = format!("DEB={}\n{LIFE}", shell_quote(&deb));
    let run = sandbox_with(&work, "etc var run usr", &script);
    run.assert_ok("install, run, remove");
    let want = format!(
        "## install
postmulti-rs install ok installed
diversion of /usr/sbin/postmulti to /usr/sbin/postmulti.postfix by postmulti-rs
diversion of /usr/share/man/man1/postmulti.1.gz to /usr/share/man/man1/postmulti.postfix.1.gz by postmulti-rs
C binary diverted intact
C manual diverted intact
postmulti replaced
# postmulti {version} (Rust drop-in for Postfix postmulti), ...
1
/usr/share/man/man1/postmulti.1.gz
/usr/share/man/man1/postmulti.postfix.1.gz
-               -               y         /etc/postfix
completions
complete -F _postmulti postmulti
bash
fish
zsh
## instances
-               -               y         /etc/postfix
postfix-a       mta             y         /etc/postfix-a
postfix-b       mta             y         /etc/postfix-b
## start
exit 0
postfix-a/postfix-script: starting the Postfix mail system
postfix-b/postfix-script: starting the Postfix mail system
postfix/postfix-script: starting the Postfix mail system
masters: 3
## status
exit 0
postfix-a/postfix-script: the Postfix mail system is running: PID: N
postfix-b/postfix-script: the Postfix mail system is running: PID: N
postfix/postfix-script: the Postfix mail system is running: PID: N
## stop
exit 0
postfix-a/postfix-script: stopping the Postfix mail system
postfix-b/postfix-script: stopping the Postfix mail system
postfix/postfix-script: stopping the Postfix mail system
masters: 0
## remove
postmulti-rs deinstall ok config-files
diversions: 0
C binary back
C manual back
diverted names gone
completions gone
postfix: /usr/sbin/postmulti
postmulti: invalid option -- '-'
-               -               y         /etc/postfix
postfix-a       mta             y         /etc/postfix-a
postfix-b       mta             y         /etc/postfix-b
## purge
not installed
diversions: 0
C binary still there
",
        version = env!("CARGO_PKG_VERSION")
    );
    assert_eq!(run.stdout, want, "--- stderr:\n{}", run.stderr);
}
