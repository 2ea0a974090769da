"""Child processes that never outlive the process that started them.

A launcher or a test run killed with SIGKILL runs no clean-up code, so its children (the
embedded broker, the services) would live on as orphans. On Linux the kernel can signal a
child when its parent dies (PR_SET_PDEATHSIG); elsewhere nothing is set and the parent's own
stop must do.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def terminated_with_parent(parent_pid: int | None = None) -> Callable[[], None] | None:
    """A `preexec_fn` for `subprocess.Popen` that has the child sent SIGTERM when its parent
    dies. The signal follows the thread that forked, so start children from a thread that
    lives as long as they should (the main thread everywhere here)."""
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid() if parent_pid is None else parent_pid
    libc = ctypes.CDLL(None, use_errno=True)

    def arm() -> None:
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            os._exit(70)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(70)

    return arm
