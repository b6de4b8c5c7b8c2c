//! Life-cycle commands are serialized: concurrent edits lose nothing, a killed
//! lock holder blocks nobody, and a helper that calls back into postmulti
//! does not deadlock.  Upstream admits it races here ("No multi.cf lock
//! file, so this is not race-free"), so these are ours-only behaviours.
mod common;
use common::*;
use std::time::Duration;

/// Creates 32 instances at once and reports what each command returned and
/// what was registered, in a form that has exactly one right answer.
const THIRTY_TWO_CREATES: &str = r#"
for i in $(seq 1 32); do
    ( postmulti -I postfix-c$i -e create >/dev/null 2>&1; echo "exit $?" ) &
done > /run/exits
wait
echo "nonzero exits: $(grep -vc '^exit 0$' /run/exits)"
echo "zero exits: $(grep -c '^exit 0$' /run/exits)"
dirs=$(postconf -h multi_instance_directories | tr ' ,' '\n\n' | grep -v '^$')
echo "registered: $(echo "$dirs" | wc -l)"
echo "registered twice: $(echo "$dirs" | sort | uniq -d | wc -l)"
echo "created: $(ls -d /etc/postfix-c* | wc -l)"
echo "created but not registered: $(ls -d /etc/postfix-c* | grep -vxF "$dirs" | wc -l)"
echo "listed: $(postmulti -l | wc -l)"
"#;

const EVERYTHING_KEPT: &str = "nonzero exits: 0\nzero exits: 32\nregistered: 32\n\
registered twice: 0\ncreated: 32\ncreated but not registered: 0\nlisted: 33\n";

#[test]
fn thirty_two_concurrent_creates_keep_every_instance_three_times_over() {
    for round in 1..=3 {
        let o = Scenario::new()
            .setup("postmulti -e init")
            .timeout(Duration::from_secs(900))
            .run_shell_ours(THIRTY_TWO_CREATES);
        assert_eq!(
            o.stdout_str(),
            EVERYTHING_KEPT,
            "round {round}\n{}",
            o.describe()
        );
        o.assert_status(0);
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
        .run_shell_ours(
            r#"
touch /run/hold
postmulti -I postfix-a -e create & holder=$!
while [ -e /run/hold ]; do sleep 0.1; done
postmulti -I postfix-b -e create >/dev/null 2>&1 & waiter=$!
sleep 2
kill -0 $waiter 2>/dev/null && echo "second create waits while the first holds the lock"
kill -9 $holder
wait $waiter; echo "second create exit $?"
postmulti -l | awk '{print $1}'
"#,
        );
    o.assert_status(0).assert_stdout(
        "second create waits while the first holds the lock\nsecond create exit 0\n-\npostfix-b\n",
    );
}

#[test]
fn a_helper_that_calls_back_into_postmulti_does_not_deadlock() {
    // The wrapped helper runs a life-cycle postmulti of its own while the
    // outer one holds the lock: it must re-lock the inherited descriptor.
    let o = Scenario::new()
        .setup("postmulti -e init")
        .setup(
            r#"
cp /usr/lib/postfix/sbin/postmulti-script /run/real-postmulti-script
cat > /run/wrapper <<'SH'
#!/bin/sh
if [ "$1 $2" = "-e create" ]; then
    /usr/sbin/postmulti -i - -e enable >/dev/null 2>&1
    echo "nested exit $?" > /run/nested
fi
exec /run/real-postmulti-script "$@"
SH
chmod 755 /run/wrapper
mount --bind /run/wrapper /usr/lib/postfix/sbin/postmulti-script
"#,
        )
        .timeout(Duration::from_secs(120))
        .run_shell_ours("postmulti -I postfix-n -e create; echo \"create exit $?\"; cat /run/nested; postmulti -l -i n");
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
        .run_shell_ours(
            r#"
touch /run/hold
postmulti -I postfix-a -e create & holder=$!
while [ -e /run/hold ]; do sleep 0.1; done
timeout 10 postmulti -l; echo "list exit $?"
timeout 10 postmulti -x true; echo "exec exit $?"
kill -9 $holder
"#,
        );
    o.assert_status(0).assert_stdout(
        "-               -               y         /etc/postfix\nlist exit 0\nexec exit 0\n",
    );
}
