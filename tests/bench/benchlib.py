"""What tests/bench/scale.sh and tests/bench/realistic.sh share: copied next
to their bench.py in the work directory and imported from there."""
import os, subprocess, sys, time

devnull = os.open("/dev/null", os.O_RDWR)

def log(*a):
    print(*a, file=sys.stderr, flush=True)

def sh(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)

def age(paths):
    # Postfix will not read a configuration file changed in the last second
    # or so (dict_load_file() waits for it to settle): backdate them.
    for p in paths:
        os.utime(p, (1577836800, 1577836800))

def select_instances(prefix, n):
    """Lists /etc/PREFIX1 .. /etc/PREFIXn in multi_instance_directories."""
    dirs = " ".join(f"/etc/{prefix}{i}" for i in range(1, n + 1))
    sh("/usr/sbin/postconf", "-e", f"multi_instance_directories = {dirs}")
    age(["/etc/postfix/main.cf"])

def spawn(argv, quiet=False):
    """Runs argv; returns (milliseconds, exit status).  QUIET: its stderr
    goes to /dev/null too (warnings compared already)."""
    actions = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 0)]
    if quiet:
        actions.append((os.POSIX_SPAWN_DUP2, devnull, 2))
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    _, status = os.waitpid(pid, 0)
    t1 = time.perf_counter()
    return (t1 - t0) * 1000, os.waitstatus_to_exitcode(status)
