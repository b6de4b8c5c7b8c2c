//! Every fatal error and warning also goes to syslog, exactly as Debian's
//! postmulti sends it: the same records on /dev/log apart from pid and
//! timestamp, `<18>` (mail.crit) for fatal errors and `<20>` (mail.warning)
//! for warnings, tag `postmulti[PID]`; getopt's own complaint is not logged.
//!
//! Self-contained: inside the sandbox, /dev is replaced by a tmpfs holding
//! bind mounts of the host's null, zero, tty, urandom and random, /dev/pts,
//! a ptmx symlink, and `log`: a symlink to a datagram socket this test
//! binds and reads.  Each case runs twice, reference then ours (bind-mounted
//! over /usr/sbin/postmulti), each in its own sandbox.
mod sandboxed;
use sandboxed::*;

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

/// Replaces /dev with a private tmpfs whose `log` is $WORK/log.sock.
const PRIVATE_DEV: &str = r#"
X=$WORK/dev
mkdir "$X"
mount -t tmpfs -o mode=755 t "$X"
for n in null zero tty urandom random; do
    touch "$X/$n"
    mount --bind "/dev/$n" "$X/$n"
done
mkdir "$X/pts"
mount --bind /dev/pts "$X/pts"
ln -s pts/ptmx "$X/ptmx"
ln -s "$WORK/log.sock" "$X/log"
mount --move "$X" /dev
"#;

/// What one run left: exit status of the command, and its syslog records.
#[derive(Debug)]
struct Logged {
    status: i32,
    records: Vec<String>,
    stderr: String,
}

/// `<PRI>Mmm dd hh:mm:ss TAG[PID]: text` with the time and pid masked.
fn normalize(record: &[u8]) -> String {
    let r = String::from_utf8_lossy(record).into_owned();
    let Some(close) = r.find('>') else { return r };
    let (pri, rest) = r.split_at(close + 1);
    // "Nov 25 13:39:51 " is 16 bytes.
    let rest = rest.get(16..).unwrap_or(rest);
    let (tag, text) = match (rest.find('['), rest.find("]: ")) {
        (Some(open), Some(end)) if open < end => (&rest[..open], &rest[end + 3..]),
        _ => return format!("{pri}TIME {rest}"),
    };
    format!("{pri}TIME {tag}[PID]: {text}")
}

/// Runs `setup` (real postmulti) then `command` in a sandbox with the
/// private /dev, with ours over /usr/sbin/postmulti when `ours`.
fn logged(ours: bool, setup: &str, command: &str) -> Logged {
    let work = workdir("pm-syslog-");
    let socket = UnixDatagram::bind(work.join("log.sock")).expect("bind the syslog socket");
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let script = format!(
        "set -e\nWORK={work}\n{PRIVATE_DEV}\n{setup}\n{bind}\nset +e\n{command}\necho \"status=$?\"\n",
        work = shell_quote(&work.to_string_lossy()),
        bind = if ours { "mount --bind \"$OURS\" /usr/sbin/postmulti" } else { "" },
    );
    let mut child = sandbox_command(&work, "etc var run", &script)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the sandbox");
    let started = Instant::now();
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 65536];
    loop {
        match socket.recv(&mut buf) {
            Ok(n) => raw.push(buf[..n].to_vec()),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
            }
            Err(e) => panic!("reading the syslog socket: {e}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "sandbox still running after 60 s"
        );
    }
    // Whatever was sent before the last process exited is queued by now.
    socket.set_nonblocking(true).unwrap();
    while let Ok(n) = socket.recv(&mut buf) {
        raw.push(buf[..n].to_vec());
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let status = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("status="))
        .unwrap_or_else(|| {
            panic!("the script did not finish\n--- stdout:\n{stdout}--- stderr:\n{stderr}")
        })
        .parse()
        .unwrap();
    Logged {
        status,
        records: raw.iter().map(|r| normalize(r)).collect(),
        stderr,
    }
}

/// Runs a case on both sides; asserts the same records and status, and
/// that they are `want`.
fn same_records(setup: &str, command: &str, status: i32, want: &[&str]) {
    let reference = logged(false, setup, command);
    let ours = logged(true, setup, command);
    assert_eq!(
        ours.records, reference.records,
        "syslog records differ for `{command}`\nreference: {reference:#?}\nours: {ours:#?}"
    );
    assert_eq!(
        ours.status, reference.status,
        "exit status differs for `{command}`"
    );
    assert_eq!(reference.status, status, "{reference:#?}");
    assert_eq!(reference.records, want, "{reference:#?}");
}

#[test]
fn usage_fatal() {
    same_records(
        "",
        "postmulti -l foo",
        1,
        &["<18>TIME postmulti[PID]: fatal: Command not allowed with '-l'"],
    );
}

/// /x holds a main.cf (made here: the sandbox's root is copy-on-write), so
/// the fatal is postmulti's own check, not the configuration reader's.
#[test]
fn configuration_fatal() {
    same_records(
        "mkdir -p /x && cp /etc/postfix/main.cf /x/main.cf",
        "MAIL_CONFIG=/x postmulti -l",
        1,
        &["<18>TIME postmulti[PID]: fatal: Non-default configuration directory: MAIL_CONFIG=/x"],
    );
}

/// No /x at all (removed, in case the host has one): the reader's fatal.
#[test]
fn configuration_directory_without_main_cf() {
    same_records(
        "rm -rf /x",
        "MAIL_CONFIG=/x postmulti -l",
        1,
        &["<18>TIME postmulti[PID]: fatal: open /x/main.cf: No such file or directory"],
    );
}

#[test]
fn child_execvp_fatal() {
    same_records(
        "",
        "postmulti -x /nonexistent",
        1,
        &["<18>TIME postmulti[PID]: fatal: execvp /nonexistent: No such file or directory"],
    );
}

#[test]
fn getopt_complaint_is_not_logged_only_the_usage() {
    same_records(
        "",
        "postmulti -z",
        1,
        &["<18>TIME postmulti[PID]: fatal: Usage:postmulti -l [-v] [-a] [-g group] [-i instance] | \
           postmulti -p [-v] [-a] [-g group] [-i instance] command... | \
           postmulti -x [-v] [-a] [-i name] [-g group] command... | \
           postmulti -e action [-v] [-a] [-i name] [-g group] [-I name] [-G group] [param=value ...]"],
    );
}

#[test]
fn warning_about_the_primary_main_cf() {
    same_records(
        // A first line that starts with white space; backdated, since
        // Postfix waits for a main.cf modified in the last second.
        "sed -i '1i\\  mydomain = example.com' /etc/postfix/main.cf\ntouch -d '-1 min' /etc/postfix/main.cf",
        "postmulti -l >/dev/null",
        0,
        &["<20>TIME postmulti[PID]: warning: /etc/postfix/main.cf: logical line must not start with whitespace: \"  mydomain = example.com\""],
    );
}

#[test]
fn normalize_masks_time_and_pid() {
    assert_eq!(
        normalize(b"<18>Nov 25 13:39:51 postmulti[64]: fatal: Command not allowed with '-l'"),
        "<18>TIME postmulti[PID]: fatal: Command not allowed with '-l'"
    );
    assert_eq!(
        normalize(b"<20>Nov  5 03:09:29 postmulti[7]: warning: x: y"),
        "<20>TIME postmulti[PID]: warning: x: y"
    );
}

#[test]
fn successful_commands_log_nothing() {
    let run = logged(true, "", "postmulti -l >/dev/null");
    assert_eq!((run.status, run.records.len()), (0, 0), "{run:#?}");
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}
