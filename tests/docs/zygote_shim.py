# ``zhangben`` for the docs test: runs the call in a child of the zygote (tests/docs/zygote.py).
#
# Installed by zygote.install_shim() behind a ``#!python -IS`` line, with the constants below
# filled in; the standard library only, so that it starts in a few milliseconds. It sends the
# call (argv, environment, working directory as an fd, umask, ignored signals and signal mask,
# resource limits, nice value) and fds 0/1/2, forwards SIGINT/SIGTERM/SIGHUP to the child, and
# ends as the child ended: its exit status, or the signal that killed it. When the server
# answers that the call cannot be forked (a startup variable differs), it runs the real
# console script in its place.
import json
import os
import resource
import signal
import socket
import struct
import sys

# @CONSTANTS@
EXEC = -1
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

child = None
pending = []


def forward(signum, _frame):
    if child is None:
        pending.append(signum)
    else:
        try:
            os.kill(child, signum)
        except ProcessLookupError:
            pass


def receive(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            sys.stderr.write("zhangben (docs zygote): the server hung up\n")
            sys.exit(70)
        data += chunk
    return struct.unpack("!ii", data)


def main():
    global child
    # a signal ignored on entry (a background job's SIGINT) stays ignored, in the child too
    ignored = [
        int(s)
        for s in signal.valid_signals()
        if s not in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGKILL, signal.SIGSTOP)
        and signal.getsignal(s) == signal.SIG_IGN
    ]
    for signum in FORWARDED:
        if signum not in ignored:
            signal.signal(signum, forward)
    umask = os.umask(0o22)
    os.umask(umask)
    fds = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
            fds.append(fd)
        except OSError:
            pass
    cwd = os.open(".", os.O_PATH | os.O_DIRECTORY)  # also one it may not read, or deleted
    request = {
        "argv": sys.argv,
        "env": dict(os.environ),
        "fds": fds,
        "umask": umask,
        "ignored": ignored,
        "sigmask": sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, [])),
        "rlimits": {
            name: list(resource.getrlimit(getattr(resource, name)))
            for name in dir(resource)
            if name.startswith("RLIMIT_")
        },
        "nice": os.getpriority(os.PRIO_PROCESS, 0),
    }
    payload = json.dumps(request).encode()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(SOCKET)  # noqa: F821 (filled in by install_shim)
    except OSError as exc:
        sys.stderr.write(f"zhangben (docs zygote): no server at {SOCKET}: {exc}\n")  # noqa: F821
        sys.exit(70)
    socket.send_fds(sock, [b"Z"], [*fds, cwd])
    os.close(cwd)
    sock.sendall(struct.pack("!I", len(payload)) + payload)
    pid, _ = receive(sock, 8)
    if pid == EXEC:
        sock.close()
        os.execv(PYTHON, [PYTHON, SCRIPT, *sys.argv[1:]])  # noqa: F821
    child = pid
    for signum in pending:
        forward(signum, None)
    status, killed_by = receive(sock, 8)
    sock.close()
    if killed_by:  # die of the same signal, as the real process did
        signal.signal(killed_by, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [killed_by])
        os.kill(os.getpid(), killed_by)
    os._exit(status)


main()
