"""How much of a child's time was its own: CPU used, and time spent neither running nor waiting for a CPU.

The zygote judges each cell and case by what the submission did, not by how busy the machine was:

- ``cpu``: user + system CPU seconds of the child process (all its threads), from ``/proc/<pid>/stat``;
- ``awake``: wall-clock seconds minus the time the child's main thread spent runnable but waiting for a CPU
  (``run_delay`` in ``/proc/<pid>/schedstat``). On an idle machine it equals wall time; on a machine whose
  cores are all busy with other work it grows only with the child's own running and sleeping, so a correct
  answer starved of CPU never reaches a limit, while a ``time.sleep(10**9)`` (no CPU at all) still does.

Standard library only: this module runs inside the jail.
"""
import os
import time

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU seconds of process ``pid`` (its threads and the children it has waited for), or None
    when it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            text = handle.read(4096)
    except OSError:
        return None
    fields = text[text.rfind(b")") + 2:].split()
    return sum(int(n) for n in fields[11:15]) / _TICKS  # utime, stime, cutime, cstime


def waiting_seconds(pid):
    """Seconds the main thread of ``pid`` spent runnable but waiting for a CPU (0.0 when unknown)."""
    try:
        with open("/proc/%d/schedstat" % pid, "rb") as handle:
            return int(handle.read(200).split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


class PhaseClock:
    """CPU and awake seconds of one process since ``restart()``."""

    def __init__(self, pid):
        self.pid = pid
        self.restart()

    def restart(self):
        self.wall0 = time.monotonic()
        self.cpu0 = cpu_seconds(self.pid) or 0.0
        self.wait0 = waiting_seconds(self.pid)

    def read(self):
        """(cpu seconds, awake seconds) since the last restart; cpu is None when the process is gone."""
        cpu = cpu_seconds(self.pid)
        wall = time.monotonic() - self.wall0
        awake = wall - (waiting_seconds(self.pid) - self.wait0)
        return (None if cpu is None else cpu - self.cpu0), awake
