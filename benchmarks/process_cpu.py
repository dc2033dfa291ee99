"""CPU seconds used by this process's descendants while a block runs, summed per program (benchmarks only; Linux).

    with DescendantCpu() as cpu:
        run_something()
    print(cpu.by_program())  # {"pulumi": 9.4, "kube-apiserver": 20.3, ...}

A thread reads /proc every `interval` seconds and keeps the last user+system time seen for every process descended
from this one (the loopback cluster's processes, the Pulumi CLI and what it starts). A process that exits between two
reads loses the CPU it used after the last one, at most `interval` seconds of it. Processes that other jobs on the
machine run are not counted, whatever their name.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
UNNAMED = "?"


@dataclass(frozen=True)
class ProcessSample:
    program: str
    parent: int
    cpu_seconds: float


def read_process(pid: int) -> ProcessSample | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    # Fields after the command name, which may itself hold spaces and parentheses: state, ppid, ..., utime (14th
    # field of the line), stime (15th).
    fields = stat[stat.rindex(")") + 2 :].split()
    return ProcessSample(
        program=program_name([arg.decode(errors="replace") for arg in argv if arg]),
        parent=int(fields[1]),
        cpu_seconds=(int(fields[11]) + int(fields[12])) / CLOCK_TICKS,
    )


def program_name(argv: list[str]) -> str:
    """The executable's file name; for a Python interpreter, the script it runs (the Pulumi program runs as
    `python3 .../pulumi-language-python-exec`)."""
    if not argv:
        return UNNAMED
    name = Path(argv[0]).name
    if name.startswith("python"):
        scripts = [arg for arg in argv[1:] if not arg.startswith("-")]
        if scripts and Path(scripts[0]).name == "pulumi-language-python-exec":
            return "python (the Pulumi program)"
    return name


@dataclass
class DescendantCpu:
    interval: float = 0.5
    root: int = field(default_factory=os.getpid)
    _before: dict[int, ProcessSample] = field(default_factory=dict)
    _last: dict[int, ProcessSample] = field(default_factory=dict)
    _descendants: set[int] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _sample(self) -> None:
        table = {
            pid: sample for pid in map(int, filter(str.isdigit, os.listdir("/proc"))) if (sample := read_process(pid))
        }
        known = {self.root} | self._descendants
        grew = True
        while grew:
            fresh = {pid for pid, sample in table.items() if pid not in known and sample.parent in known}
            known |= fresh
            grew = bool(fresh)
        self._descendants = known - {self.root}
        for pid in self._descendants & table.keys():
            sample, earlier = table[pid], self._last.get(pid)
            if sample.program == UNNAMED and earlier is not None:
                # An exited process not yet reaped has an empty command line: keep the name read while it ran.
                sample = ProcessSample(earlier.program, sample.parent, sample.cpu_seconds)
            self._last[pid] = sample

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> DescendantCpu:
        self._sample()
        self._before = dict(self._last)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()

    def by_program(self) -> dict[str, float]:
        """CPU seconds used inside the block per program, largest first."""
        totals: dict[str, float] = {}
        for pid, sample in self._last.items():
            before = self._before.get(pid)
            used = sample.cpu_seconds - (before.cpu_seconds if before and before.program == sample.program else 0.0)
            totals[sample.program] = totals.get(sample.program, 0.0) + used
        return dict(sorted(totals.items(), key=lambda item: -item[1]))


def cpu_line(totals: dict[str, float], wall: float) -> str:
    spent = sum(totals.values())
    parts = ", ".join(f"{program} {seconds:.1f}" for program, seconds in totals.items() if seconds >= 0.05)
    return f"CPU s {spent:.1f} in {wall:.1f} s wall: {parts}"
