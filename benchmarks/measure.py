"""Run one command as a child process and measure its wall time and peak resident memory.

Peak memory comes from GNU time (``/usr/bin/time -v``): its "Maximum resident set size" is the
``ru_maxrss`` that ``wait4`` returns for the child (the largest RSS of the child and of any
descendant it waited for). ``time`` is a small C program, so the figure is the measured
command's own, not inflated by this Python process (a child forked or vforked from Python
briefly shares Python's pages, and Linux counts them in the child's high-water mark). One
``time`` per measurement, so every figure belongs to one run.

The machines are shared, so each measurement also tells how busy other processes kept the CPUs
meanwhile: the machine's busy CPU time (``/proc/stat``) minus the command's own user + system
time, as a share of wall time × CPUs. A run with a large share was slowed by others.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

GNU_TIME = Path("/usr/bin/time")
_MAX_RSS = re.compile(r"Maximum resident set size \(kbytes\):\s*(\d+)")
_CPU_TIME = re.compile(r"(?:User|System) time \(seconds\):\s*([\d.]+)")


@dataclass
class Measurement:
    wall_s: float
    max_rss_mib: float
    others_share: float  # share of the machine's CPU time used by other processes (0-1)
    returncode: int
    stdout: str
    stderr: str
    cpu_s: float = float("nan")  # the command's own user + system time (GNU time)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def failure(self, lines: int = 15) -> str:
        """The last lines of the output, to explain a failed run."""
        text = (self.stderr.strip() or self.stdout.strip()).splitlines()
        return "\n".join(text[-lines:])


def measure(command: list[str], env: dict[str, str] | None = None) -> Measurement:
    """Run ``command`` to the end; wall time from this side, peak RSS from GNU time."""
    if not GNU_TIME.exists():
        raise RuntimeError(f"{GNU_TIME} is missing: install Debian's 'time' package")
    with tempfile.TemporaryDirectory(prefix="mineeco-bench-") as folder:
        report = Path(folder) / "time.txt"
        stdout, stderr = Path(folder) / "stdout", Path(folder) / "stderr"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            busy_before = machine_busy_s()
            start = time.perf_counter()
            returncode = subprocess.call(
                [str(GNU_TIME), "-v", "-o", str(report), *command],
                stdout=out,
                stderr=err,
                env=env,
            )
            wall = time.perf_counter() - start
            busy = machine_busy_s() - busy_before
        text = report.read_text(errors="replace")
        match = _MAX_RSS.search(text)
        own_cpu = sum(float(value) for value in _CPU_TIME.findall(text))
        return Measurement(
            wall_s=wall,
            max_rss_mib=int(match.group(1)) / 1024 if match else float("nan"),
            others_share=max(busy - own_cpu, 0.0) / (wall * (os.cpu_count() or 1)),
            returncode=returncode,
            stdout=stdout.read_text(errors="replace"),
            stderr=stderr.read_text(errors="replace"),
            cpu_s=own_cpu,
        )


def machine_busy_s() -> float:
    """CPU seconds all processes have used since boot (every CPU state but idle and iowait)."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def settle() -> None:
    """Flush dirty pages left by the previous run, so its write-back does not slow the next."""
    os.sync()
