"""Is the process a state file names still the ccr server that wrote it? Pids are reused after a crash or a
reboot, and claude-code-router's own command is also called `ccr`: signalling the wrong process must not happen."""

from __future__ import annotations

import os
from pathlib import Path


def process_alive(pid: int) -> bool:
    """Running, and not a zombie waiting for a parent that may be slow to reap it (a container's init)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2:][:1] != b"Z"


def process_start(pid: int) -> int | None:
    """When the process started (clock ticks since boot, /proc/PID/stat field 22); None without procfs."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2:].split()
    return int(fields[19]) if len(fields) > 19 and fields[19].isdigit() else None


def is_ccr_process(pid: int, started: int | None) -> bool:
    """`started` is the start time the server recorded for itself: the same pid with another start time is
    another process. State files without it (older versions) are checked by the command line: a Python
    interpreter running ccr's server, never `node … ccr` (claude-code-router)."""
    now = process_start(pid)
    if now is None:
        return not Path("/proc/self").exists()  # no procfs (macOS): the pid is all there is to go by
    if started is not None:
        return now == started
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    if not argv or not Path(argv[0].decode(errors="replace")).name.startswith("python"):
        return False
    args = argv[1:]
    ours = b"router" in args or any(Path(a.decode(errors="replace")).name == "ccr" for a in args[:1])
    return ours and b"start" in args
