"""socket(AF_VSOCK, SOCK_SEQPACKET, 0), made with a plain family and with a high half the
kernel drops: what confine's README shows of the 32-bit argument bypass (libseccomp #383)."""
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
for family in (40, (1 << 32) | 40):
    fd = libc.syscall(ctypes.c_long(41), ctypes.c_long(family), ctypes.c_long(5), ctypes.c_long(0))
    if fd >= 0:
        os.close(fd)
        print(f"socket({family:#x}): created")
    else:
        print(f"socket({family:#x}): {os.strerror(ctypes.get_errno())}")
