#!/usr/bin/python3
# no-ipv6.py COMMAND [ARG...]
#
# Runs COMMAND as on a kernel booted with ipv6.disable=1, as far as Postfix
# can tell: a seccomp filter (inherited by every child) makes socket(2) of
# the AF_INET6 family fail with EAFNOSUPPORT, which is what inet_proto_init()
# probes before it enables IPv6.  x86_64 and aarch64 only.
import ctypes
import os
import platform
import struct
import sys

SOCKET_NR = {"x86_64": 41, "aarch64": 198}
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
AF_INET6, EAFNOSUPPORT = 10, 97
BPF_LD_W_ABS, BPF_JEQ_K, BPF_RET_K = 0x20, 0x15, 0x06
RET_ALLOW, RET_ERRNO = 0x7FFF0000, 0x00050000
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2


def insn(code, k, jt=0, jf=0):
    """One classic BPF instruction (struct sock_filter)."""
    return struct.pack("HBBI", code, jt, jf, k)


def main():
    machine = platform.machine()
    if machine not in SOCKET_NR or len(sys.argv) < 2:
        sys.exit(f"usage: no-ipv6.py COMMAND [ARG...] (x86_64 or aarch64; this is {machine})")
    # seccomp_data: nr at 0, arch at 4, args[0] at 16 (its low half on
    # little-endian machines).
    program = b"".join([
        insn(BPF_LD_W_ABS, 4),
        insn(BPF_JEQ_K, AUDIT_ARCH[machine], 1, 0),
        insn(BPF_RET_K, RET_ALLOW),
        insn(BPF_LD_W_ABS, 0),
        insn(BPF_JEQ_K, SOCKET_NR[machine], 0, 3),
        insn(BPF_LD_W_ABS, 16),
        insn(BPF_JEQ_K, AF_INET6, 0, 1),
        insn(BPF_RET_K, RET_ERRNO | EAFNOSUPPORT),
        insn(BPF_RET_K, RET_ALLOW),
    ])
    buf = ctypes.create_string_buffer(program)
    fprog = struct.pack("HxxxxxxQ", len(program) // 8, ctypes.addressof(buf))
    fbuf = ctypes.create_string_buffer(fprog)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
        sys.exit(f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(ctypes.get_errno())}")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fbuf), 0, 0) != 0:
        sys.exit(f"prctl(PR_SET_SECCOMP): {os.strerror(ctypes.get_errno())}")
    os.execvp(sys.argv[1], sys.argv[1:])


main()
