"""A server process, and what it cost: CPU time, resident memory, start-up time."""

import os

import rig

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds_of(command: str) -> float | None:
    """User + system time of every process named `command` on this machine (PostgreSQL's
    backends: the benchmark's database is the only one busy while it runs), or None if
    there is none."""
    total, seen = 0, False
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                head, _, rest = f.read().rpartition(")")
        except OSError:
            continue
        if head.split("(", 1)[1] == command:
            fields = rest.split()
            total += int(fields[11]) + int(fields[12])
            seen = True
    return total / TICKS if seen else None


def cores() -> int:
    """The cores this process may use: its CPU affinity, lowered by a cgroup CPU quota."""
    count = len(os.sched_getaffinity(0))
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()
        if quota != "max":
            count = min(count, max(1, round(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return count


class Server(rig.Process):
    """A peer's server process (rig.Process: started, ready at its health path, stopped),
    and what it costs: CPU time and memory, from /proc."""

    def start(self):
        super().start()
        self.idle_rss_mb = self.rss_mb()

    def cpu_seconds(self) -> float:
        """User + system time of the process (all its threads, living or ended)."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def _status_kib(self, key: str) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    def reset_peak_rss(self):
        """Starts VmHWM afresh, so each load's peak is its own."""
        try:
            with open(f"/proc/{self.proc.pid}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass  # not permitted here: the peak is then the process's whole life's

    def rss_mb(self) -> float:
        return self._status_kib("VmRSS") / 1024

    def peak_rss_mb(self) -> float:
        return self._status_kib("VmHWM") / 1024
