#!/bin/bash
# enter.sh WORKDIR COMMAND [ARG...]
#
# Runs COMMAND as root in a private mount, pid, network and uts namespace
# whose whole root file system is a copy-on-write copy of the host's: nothing
# COMMAND writes anywhere reaches the host.
#
# - /: an overlay of the host's root over a tmpfs that dies with the
#   namespace (a new top-level directory, /usr/local, /root: all throw-away).
# - SANDBOX_OVERLAYS (default "etc var run"): these top-level directories are
#   overlays whose upper directories are WORKDIR/upper/NAME, so the harness
#   sees exactly what was written there (/var/run is a symlink to /run on
#   Debian, hence /run).  Add "usr" to see what dpkg -i wrote under /usr.
#   /run starts without the host's /run/postmulti.lock (a whiteout in a
#   lower layer hides it), so a host where postmulti ran is like any other.
# - Every other file system mounted on the host (not /proc, /sys, /dev,
#   /tmp) is bound read-only at its place.
# - /tmp is copy-on-write as well (the repository under test may live
#   there); WORKDIR itself is bound at its own path, writable, so the
#   harness's driver, status and logs pass through it.
# - /proc, /sys, /dev are the namespace's own: /dev is a private tmpfs with
#   the usual device nodes (bind mounts of the host's), a new devpts
#   instance and a fresh /dev/shm.  If WORKDIR/syslog.sock exists (a
#   datagram socket someone listens on), /dev/log is a symlink to it, so
#   syslog(3) messages from inside reach that listener and nothing else;
#   otherwise there is no /dev/log.
#
# SANDBOX_ROOT=DIR (tests/sandbox/make-root.sh's root of another Debian
# release) makes DIR the lower layer of / and of the overlays above instead
# of the host's /; host file systems are then not bound, only the paths of
# SANDBOX_SHARE (colon-separated: the repository, the binary under test) at
# their own paths (a directory copy-on-write, a file read-only), and /tmp
# (copy-on-write, as above).
#
# Processes started inside die with the pid namespace (also when this
# script's unshare is killed: --kill-child); the only network is a loopback
# interface; the host name is sandbox.example.
set -eu
work=$(realpath -- "$1")
shift
overlays=${SANDBOX_OVERLAYS:-etc var run}
base=${SANDBOX_ROOT:-}
if [ -n "$base" ]; then
    base=$(realpath -- "$base")
    [ -x "$base/usr/sbin/postconf" ] || { echo "enter.sh: SANDBOX_ROOT $base is no Debian root with Postfix (tests/sandbox/make-root.sh)" >&2; exit 2; }
fi
for d in $overlays; do
    case $d in
    *[!a-z0-9_-]* | "") echo "enter.sh: bad SANDBOX_OVERLAYS entry: $d" >&2; exit 2 ;;
    esac
    mkdir -p "$work/upper/$d" "$work/ovl/$d"
done
share=${SANDBOX_SHARE:-}
# Read: the command inside does not see them.
unset SANDBOX_ROOT SANDBOX_SHARE
mkdir -p "$work/root" "$work/rootfs"
exec unshare --mount --pid --fork --net --uts --mount-proc --propagation private \
    --kill-child=SIGKILL -- \
    bash -c '
        set -eu
        work=$1
        overlays=$2
        base=$3
        share=$4
        shift 4
        root=$work/root

        # The whole root, copy-on-write onto a tmpfs private to this namespace.
        mount -t tmpfs -o mode=700 tmpfs "$work/rootfs"
        mkdir "$work/rootfs/upper" "$work/rootfs/work"
        chmod --reference=/ "$work/rootfs/upper"
        mount -t overlay overlay \
            -o "lowerdir=${base:-/},upperdir=$work/rootfs/upper,workdir=$work/rootfs/work" "$root"

        # The directories whose writes the harness reads.  Under /run, a
        # layer of whiteouts hides what a postmulti that ran on the host
        # left there (its life-cycle lock): the sandbox starts without it.
        mkdir "$work/rootfs/run-mask"
        mknod "$work/rootfs/run-mask/postmulti.lock" c 0 0
        for d in $overlays; do
            mkdir -p "$root/$d"
            lower=$base/$d
            [ "$d" = run ] && lower=$work/rootfs/run-mask:$base/run
            mount -t overlay overlay \
                -o "lowerdir=$lower,upperdir=$work/upper/$d,workdir=$work/ovl/$d" "$root/$d"
        done

        # Other host file systems: visible, read-only.
        under() { case $1 in "$2" | "$2"/*) return 0 ;; esac; return 1; }
        while read -r _ _ _ _ mp _; do
            case $mp in *\\*) continue ;; esac
            skip=
            for p in / /proc /sys /dev /tmp "$work"; do
                if [ "$p" = / ]; then [ "$mp" = / ] && skip=1
                elif under "$mp" "$p"; then skip=1; fi
            done
            for d in $overlays; do under "$mp" "/$d" && skip=1; done
            [ -n "$skip" ] && continue
            if [ -d "$mp" ]; then mkdir -p "$root$mp"
            else [ -e "$root$mp" ] || touch "$root$mp"; fi
            mount --bind "$mp" "$root$mp"
            mount -o remount,bind,ro "$root$mp"
        done < <(if [ -z "$base" ]; then cat /proc/self/mountinfo; fi)

        # The paths a sandbox on another root needs from the host: a
        # directory copy-on-write (like the rest of the root), a file bound
        # read-only.
        if [ -n "$base" ]; then
            IFS=: read -r -a shared <<< "$share"
            n=0
            for p in "${shared[@]}"; do
                [ -e "$p" ] || continue
                if [ -d "$p" ]; then
                    n=$((n + 1))
                    mkdir -p "$root$p" "$work/rootfs/share-upper-$n" "$work/rootfs/share-work-$n"
                    mount -t overlay overlay -o "lowerdir=$p,upperdir=$work/rootfs/share-upper-$n,workdir=$work/rootfs/share-work-$n" "$root$p"
                else
                    mkdir -p "$root$(dirname -- "$p")"
                    [ -e "$root$p" ] || touch "$root$p"
                    mount --bind "$p" "$root$p"
                    mount -o remount,bind,ro "$root$p"
                fi
            done
        fi

        # /tmp: copy-on-write too (the repository under test may live there).
        mkdir "$work/rootfs/tmp-upper" "$work/rootfs/tmp-work"
        chmod --reference=/tmp "$work/rootfs/tmp-upper"
        mount -t overlay overlay \
            -o "lowerdir=/tmp,upperdir=$work/rootfs/tmp-upper,workdir=$work/rootfs/tmp-work" "$root/tmp"
        mkdir -p "$root$work"
        mount --bind "$work" "$root$work"
        mount -t proc proc "$root/proc"
        mount -t sysfs -o ro sysfs "$root/sys" 2>/dev/null || mount --rbind /sys "$root/sys"

        dev=$root/dev
        mount -t tmpfs -o mode=755,nosuid tmpfs "$dev"
        for n in null zero full random urandom tty; do
            touch "$dev/$n"
            mount --bind "/dev/$n" "$dev/$n"
        done
        mkdir "$dev/pts" "$dev/shm"
        mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$dev/pts"
        ln -s pts/ptmx "$dev/ptmx"
        mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$dev/shm"
        ln -s /proc/self/fd "$dev/fd"
        ln -s /proc/self/fd/0 "$dev/stdin"
        ln -s /proc/self/fd/1 "$dev/stdout"
        ln -s /proc/self/fd/2 "$dev/stderr"
        if [ -S "$work/syslog.sock" ]; then
            ln -s "$work/syslog.sock" "$dev/log"
        fi

        # Postfix commands installed under /usr/local on the host (a make
        # install, say) would shadow those of Debian in PATH: drop them from the
        # copy-on-write root of the sandbox.
        for d in /usr/local/sbin /usr/local/bin; do
            for c in postmulti postfix postconf postmulti-script; do
                if [ -e "$root$d/$c" ] || [ -L "$root$d/$c" ]; then rm -f "$root$d/$c"; fi
            done
        done

        # A host where the package of this project (postmulti-rs) is
        # installed: its files are dropped from the copy-on-write root and
        # the postmulti program and manual page of Debian are back at their
        # own paths (dpkg-divert had renamed them), so the sandbox has the
        # Postfix of Debian as on any other host.  Not when /usr is an
        # overlay of its own (the package test): that one sees the /usr of
        # the host as it is.
        list=$root/var/lib/dpkg/info/postmulti-rs.list
        case " $overlays " in *" usr "*) list= ;; esac
        if [ -n "$list" ] && [ -f "$list" ]; then
            while IFS= read -r f; do
                case $f in /usr/*) ;; *) continue ;; esac
                if [ -L "$root$f" ] || [ -f "$root$f" ]; then rm -f "$root$f"; fi
            done < "$list"
            awk '\''NR % 3 == 1 { from = $0 } NR % 3 == 2 { to = $0 }
                 NR % 3 == 0 && $0 == "postmulti-rs" { print from; print to }'\'' \
                "$root/var/lib/dpkg/diversions" |
                while IFS= read -r from && IFS= read -r to; do
                    if [ -e "$root$to" ]; then mv -- "$root$to" "$root$from"; fi
                done
        fi

        ip link set lo up
        hostname sandbox.example
        exec chroot "$root" "$@"
    ' enter.sh "$work" "$overlays" "$base" "$share" "$@"
