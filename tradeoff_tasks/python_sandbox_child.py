"""The first code a sandboxed program's interpreter runs (standard library only; see python_sandbox.py).

Usage: python -I -S -B python_sandbox_child.py LIMITS_JSON, in the throw-away working directory that holds
program.py. In order: leave the network (a new user and network namespace where the kernel allows it: only a
loopback that is down), set the resource limits, install an audit hook that refuses what the program may not
do, then run program.py. Exit status: 0 when the program ran to its end, 1 for an exception, 3 when it tried
to exit early (a `sys.exit(0)` before the tests must not pass for passing them).
"""

import json
import os
import resource
import sys
import traceback

PATH_EVENTS = {  # audit event -> positions of its path arguments
    "open": (0,),
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.mkdir": (0,),
    "os.rename": (0, 1),
    "os.symlink": (0, 1),
    "os.link": (0, 1),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.truncate": (0,),
    "os.utime": (0,),
    "os.setxattr": (0,),
    "os.removexattr": (0,),
    "shutil.rmtree": (0,),
}
REFUSED_EVENTS = {"os.fork", "os.forkpty", "os.system", "subprocess.Popen", "os.kill", "os.killpg", "os.chroot"}
REFUSED_PREFIXES = ("socket.", "os.exec", "os.spawn", "os.posix_spawn", "ctypes.", "winreg.")
REFUSED_IMPORTS = {"ctypes", "_ctypes", "_posixsubprocess", "cffi"}  # ways around the events above
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
EXIT_EARLY = 3


def leave_network() -> None:
    """No network at the kernel level where unprivileged user namespaces exist; the audit hook refuses
    sockets either way."""
    try:
        import ctypes  # imported before the hook refuses it

        libc = ctypes.CDLL(None, use_errno=True)
        libc.unshare(0x10000000 | 0x40000000)  # CLONE_NEWUSER | CLONE_NEWNET; failure leaves the hook alone
    except (OSError, AttributeError):
        pass
    for name in [m for m in sys.modules if m.split(".")[0] in REFUSED_IMPORTS]:
        del sys.modules[name]  # so that the program's own import of ctypes meets the audit hook


def set_limits(limits: dict) -> None:
    for name, value in (
        ("RLIMIT_CPU", limits["cpu_s"]),
        ("RLIMIT_AS", limits["memory_bytes"]),
        ("RLIMIT_FSIZE", limits["file_bytes"]),
        ("RLIMIT_NOFILE", limits["open_files"]),
        ("RLIMIT_NPROC", limits["processes"]),
        ("RLIMIT_CORE", 0),
    ):
        resource.setrlimit(getattr(resource, name), (value, value))


def make_hook(root: str):
    def inside(path) -> bool:
        if isinstance(path, int):  # a file descriptor the program already holds
            return True
        resolved = os.path.realpath(os.fsdecode(path))
        return resolved == root or resolved.startswith(root + os.sep)

    def hook(event: str, args: tuple) -> None:
        if event in REFUSED_EVENTS or event.startswith(REFUSED_PREFIXES):
            raise PermissionError(f"sandbox: {event} is not allowed")
        if event == "import" and args[0].split(".")[0] in REFUSED_IMPORTS:
            raise PermissionError(f"sandbox: importing {args[0]} is not allowed")
        if event not in PATH_EVENTS:
            return
        if event == "open":
            path, mode, flags = args
            writing = any(c in (mode or "") for c in "wax+") or bool((flags or 0) & WRITE_FLAGS)
            if not writing or path is None:
                return
        for position in PATH_EVENTS[event]:
            if position < len(args) and args[position] is not None and not inside(args[position]):
                raise PermissionError(f"sandbox: {event} outside the working directory: {args[position]}")

    return hook


def main() -> int:
    limits = json.loads(sys.argv[1])
    with open("program.py", encoding="utf-8") as f:
        source = f.read()
    leave_network()
    set_limits(limits)
    sys.addaudithook(make_hook(os.path.realpath(os.getcwd())))
    os._exit = None  # a program that ends the process before its tests have run has not passed them
    try:
        exec(compile(source, "program.py", "exec"), {"__name__": "__main__"})
    except SystemExit:
        print("sandbox: the program exited before it ended", file=sys.stderr)
        return EXIT_EARLY
    except BaseException:  # noqa: BLE001 - any failure of the program is its result, reported on stderr
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
