//! Builds a distribution can trust: the binary holds nothing of the host it
//! was built on, so two builds of the same commit with the same toolchain
//! and the same Postfix are identical byte for byte.
//!
//! `postconf -d` prints, besides Postfix's built-in defaults, a few values
//! it computes on the host it runs on; build.rs records those by name only
//! (postmulti::defaults::COMPUTED).  The first test finds them empirically:
//! `postconf -d` under other host names, in network namespaces with other
//! addresses, and under another program name.  The second builds postmulti
//! twice from scratch (release profile, as packaged: ~20-60 s each), in two
//! target directories, under two host names with two different networks,
//! and compares.  Both need root (unshare) and Debian's postfix.
mod sandboxed;
use sandboxed::*;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use postmulti::defaults::COMPUTED;

const POSTCONF: &str = "/usr/sbin/postconf";

/// Runs `script` (bash, with `args` as $1...) in new uts and network
/// namespaces: host name and the loopback interface's addresses are its own.
fn in_namespaces(script: &str, args: &[&str]) -> Command {
    let mut c = Command::new("unshare");
    c.args(["--uts", "--net", "--", "bash", "-euc", script, "bash"])
        .args(args)
        .stdin(Stdio::null());
    c
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\n--- stdout:\n{}\n--- stderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn table(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(|l| {
            let (n, v) = l.split_once('=').expect("name = value");
            (n.trim().to_string(), v.trim().to_string())
        })
        .collect()
}

/// Sets the host name and gives lo an address of its own.
const NAMESPACE_SETUP: &str = "hostname \"$1\"; ip link set lo up; ip addr add \"$2\" dev lo";

#[test]
fn computed_defaults_are_the_ones_that_vary_with_the_host() {
    require_root();
    let work = workdir("pm-computed-");
    let empty = work.join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("main.cf"), "").unwrap();
    std::fs::write(empty.join("master.cf"), "").unwrap();
    let empty = empty.to_str().unwrap();
    let renamed = work.join("postconf-renamed");
    std::fs::copy(POSTCONF, &renamed).unwrap();

    let mut runs = vec![ok(
        Command::new(POSTCONF)
            .args(["-d", "-c", empty])
            .output()
            .unwrap(),
        "postconf -d",
    )];
    for (host, addr) in [
        ("pm-computed-a.example-a.invalid", "198.51.100.7/24"),
        ("pm-computed-b", "203.0.113.9/24"),
    ] {
        runs.push(ok(
            in_namespaces(
                &format!("{NAMESPACE_SETUP}; exec {POSTCONF} -d -c \"$3\""),
                &[host, addr, empty],
            )
            .output()
            .unwrap(),
            "postconf -d in namespaces",
        ));
    }
    runs.push(ok(
        Command::new(&renamed)
            .args(["-d", "-c", empty])
            .output()
            .unwrap(),
        "renamed postconf -d",
    ));
    let tables: Vec<_> = runs.iter().map(|t| table(t)).collect();
    assert!(tables
        .iter()
        .all(|t| t.len() > 100 && t.keys().eq(tables[0].keys())));
    let varying: BTreeSet<&str> = tables[0]
        .keys()
        .filter(|name| tables.iter().any(|t| t[*name] != tables[0][*name]))
        .map(|n| n.as_str())
        .collect();
    assert_eq!(
        varying,
        COMPUTED.iter().copied().collect::<BTreeSet<_>>(),
        "the defaults postconf computes on the running host are not the ones build.rs leaves out"
    );
    // What they were: the namespaces' own.
    assert_eq!(tables[1]["myhostname"], "pm-computed-a.example-a.invalid");
    assert_eq!(tables[1]["mydomain"], "example-a.invalid");
    assert!(tables[1]["mynetworks"].contains("198.51.100.0/24"));
    assert_eq!(tables[2]["myhostname"], "pm-computed-b.localdomain");
    assert!(tables[2]["mynetworks"].contains("203.0.113.0/24"));
    assert_eq!(tables[3]["process_name"], "postconf-renamed");
}

/// Environment variables build.rs reads: a packager's, not this test's.
fn clean_build_env(c: &mut Command) {
    for (name, _) in std::env::vars_os() {
        let n = name.to_string_lossy();
        if n.starts_with("POSTMULTI_") || n == "CARGO_TARGET_DIR" || n == "CARGO_BUILD_TARGET_DIR" {
            c.env_remove(&name);
        }
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

#[test]
fn two_builds_under_different_host_names_are_identical() {
    require_root();
    let work = workdir("pm-repro-");
    let mut binaries = Vec::new();
    let mut host_values = Vec::new();
    for (tag, host, addr) in [
        ("a", "pm-build-a7q.repro-a.invalid", "198.51.100.7/24"),
        ("b", "pm-build-b3x.repro-b.invalid", "203.0.113.9/24"),
    ] {
        let target = work.join(format!("target-{tag}"));
        // What postconf computes in that namespace, then the build, there.
        let script = format!(
            "{NAMESPACE_SETUP}\n\
             {POSTCONF} -d -c /dev/null myhostname mydomain mynetworks 2>/dev/null\n\
             \"$3\" build --release --locked --offline --quiet --target-dir \"$4\" >&2"
        );
        let mut c = in_namespaces(&script, &[host, addr, &cargo(), target.to_str().unwrap()]);
        c.current_dir(repo());
        clean_build_env(&mut c);
        let seen = table(&ok(c.output().unwrap(), "cargo build --release"));
        assert_eq!(seen["myhostname"], host);
        let binary = target.join("release/postmulti");
        binaries.push(std::fs::read(&binary).unwrap());
        host_values.push(seen);

        // A second build with nothing changed compiles nothing (build.rs
        // watches the files it reads, and none has changed).
        let mut again = Command::new(cargo());
        again
            .args([
                "build",
                "--release",
                "--locked",
                "--offline",
                "--target-dir",
            ])
            .arg(&target)
            .current_dir(repo());
        clean_build_env(&mut again);
        let out = again.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !stderr.contains("Compiling postmulti"),
            "the second build recompiled postmulti:\n{stderr}"
        );
    }
    assert!(
        binaries[0] == binaries[1],
        "two builds of the same tree under different host names differ ({} and {} bytes)",
        binaries[0].len(),
        binaries[1].len()
    );

    // They did record a table, or they would prove little...
    let version = Command::new(work.join("target-a/release/postmulti"))
        .arg("--version")
        .output()
        .unwrap();
    let version = ok(version, "postmulti --version");
    assert!(
        version
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("# recorded at build time: the ")),
        "{version}"
    );
    // ...and nothing of either host is in it, unless Postfix itself has it
    // in a default that does not depend on the host.
    let static_values: String = ok(
        Command::new(POSTCONF)
            .args(["-d", "-c", "/dev/null"])
            .stderr(Stdio::null())
            .output()
            .unwrap(),
        "postconf -d",
    )
    .lines()
    .filter(|l| {
        let name = l.split(" =").next().unwrap_or("");
        !COMPUTED.contains(&name)
    })
    .collect::<Vec<_>>()
    .join("\n");
    for seen in &host_values {
        let host = &seen["myhostname"];
        let mut words = vec![
            host.as_str(),
            host.split('.').next().unwrap(),
            &seen["mydomain"],
        ];
        words.extend(seen["mynetworks"].split_whitespace());
        for word in words {
            if static_values.contains(word) {
                continue;
            }
            assert!(
                !contains(&binaries[0], word.as_bytes()),
                "the binary holds {word:?}, a value of the build host"
            );
        }
    }
    assert!(
        contains(&binaries[0], b"smtpd_banner"),
        "no recorded table?"
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn build_script_names_itself_as_cargo_knows_it() {
    // Cargo.toml's `build = "..."` and the script's rerun-if-changed must
    // name the same file, or cargo reruns it (and rebuilds) every time.
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let script = manifest
        .lines()
        .find_map(|l| l.strip_prefix("build = "))
        .map(|s| s.trim_matches('"').to_string())
        .expect("build = in Cargo.toml");
    assert!(Path::new(&repo().join(&script)).is_file());
    let source = std::fs::read_to_string(repo().join(&script)).unwrap();
    assert!(
        source.contains(&format!("cargo:rerun-if-changed={script}")),
        "{script} does not watch itself"
    );
}
