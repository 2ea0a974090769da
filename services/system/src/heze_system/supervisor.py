"""The embedded mode's process supervisor: a service that dies is started again after a backoff,
as Kubernetes would restart its pod; only a crash loop stops the system."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from heze_system.system import RunningSystem


class CrashLoop(RuntimeError):
    """A service kept dying: restarting it again would only hide the fault."""


@dataclass
class Supervisor:
    system: RunningSystem
    report: Callable[[str], None]
    first_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    crash_loop_deaths: int = 5
    """Deaths within `crash_loop_seconds` that make a crash loop."""
    crash_loop_seconds: float = 120.0
    clock: Callable[[], float] = time.monotonic
    deaths: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    restarts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _restart_due: dict[str, float] = field(default_factory=dict)

    def check(self) -> None:
        """Notice deaths and restart what is due; raise CrashLoop when a service keeps dying."""
        now = self.clock()
        for service in self.system.exited():
            if service in self._restart_due:
                if now >= self._restart_due[service]:
                    del self._restart_due[service]
                    self.system.spawn(service)
                    self.restarts[service] += 1
                    pid = self.system.processes[service].pid
                    self.report(
                        f"{service} restarted (pid {pid}, restart {self.restarts[service]})"
                    )
                continue
            self._schedule_restart(service, now)

    def _schedule_restart(self, service: str, now: float) -> None:
        deaths = self.deaths[service]
        deaths.append(now)
        while deaths and deaths[0] < now - self.crash_loop_seconds:
            deaths.popleft()
        code = self.system.processes[service].returncode
        if len(deaths) >= self.crash_loop_deaths:
            raise CrashLoop(
                f"{service} died {len(deaths)} times within {self.crash_loop_seconds:.0f} s"
                f" (last exit code {code}); see {self.system.logs / service}.log"
            )
        delay = min(self.max_backoff_seconds, self.first_backoff_seconds * 2 ** (len(deaths) - 1))
        self._restart_due[service] = now + delay
        self.report(f"{service} exited with code {code}; restarting in {delay:.0f} s")
