"""Make one i386 system call (int 0x80) from a 64-bit process: `int80.py socket FAMILY`
calls socketcall(SYS_SOCKET, {FAMILY, SOCK_STREAM, 0}) and prints the result (a descriptor,
or -errno). Machine code in a page below 4 GiB, so that the 32-bit ABI can take its
pointers; the test runs this under `confine run`."""
import ctypes
import struct
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
PROT_RWX, MAP_PRIVATE_ANON_32BIT = 7, 0x02 | 0x20 | 0x40
page = libc.mmap(None, 8192, PROT_RWX, MAP_PRIVATE_ANON_32BIT, -1, 0)
assert page and page < 2**32


def int80(nr, ebx, ecx):
    # push rbx; mov eax, nr; mov ebx, a; mov ecx, b; int 0x80; pop rbx; movsxd rax, eax; ret
    code = b"\x53\xb8" + struct.pack("<I", nr) + b"\xbb" + struct.pack("<I", ebx)
    code += b"\xb9" + struct.pack("<I", ecx) + b"\xcd\x80\x5b\x48\x63\xc0\xc3"
    ctypes.memmove(page, code, len(code))
    return ctypes.CFUNCTYPE(ctypes.c_long)(page)()


if sys.argv[1] == "socket":
    args = struct.pack("<III", int(sys.argv[2]), 1, 0)
    ctypes.memmove(page + 4096, args, len(args))
    # i386 socketcall is 102, SYS_SOCKET 1
    print(int80(102, 1, page + 4096))
