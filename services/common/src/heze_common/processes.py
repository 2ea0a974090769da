"""Child processes that never outlive the process that started them.

A launcher or a test run killed with SIGKILL runs no clean-up code, so its children (the
embedded broker, the services) would live on as orphans. On Linux the kernel can signal a
child when its parent dies (PR_SET_PDEATHSIG). It is set by util-linux's `setpriv`, which
execs the real command: setting it in Python between fork and exec (`preexec_fn`) can deadlock
a child forked from a process with threads, as test runs and services are.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence


def terminated_with_parent(command: Sequence[str]) -> list[str]:
    """`command`, run so that it gets SIGTERM when the thread that started it dies (start it
    from a thread that lives as long as it should: the main thread everywhere here). Where
    there is no `setpriv` (not Linux), the command as it is: the parent's own stop must do."""
    setpriv = shutil.which("setpriv") if sys.platform.startswith("linux") else None
    if setpriv is None:
        return list(command)
    return [setpriv, "--pdeathsig", "TERM", "--", *command]
