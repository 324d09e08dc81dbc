"""Where a page's CPU goes: CPU time per request, by group of processes, around each wrk run.

Before and after a wrk run, the CPU time (utime + stime, in clock ticks) of every
process of each group is read from /proc/<pid>/stat; a group's CPU in the run is
the sum over its processes of what each used in between (a process started
during the run counts whole), divided by the requests wrk completed. wrk's own
CPU comes from getrusage(RUSAGE_CHILDREN): it is the one child the bench reaps
during a run. Linux only, like wrk and the rest of the bench.
"""

import os
import resource
import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from .load import LoadResult

PORTAL, POSTGRES, SANDBOX, WRK = "portal", "PostgreSQL", "Sage sandbox", "wrk"
GROUPS = (PORTAL, POSTGRES, SANDBOX, WRK)
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Processes:
    """How to recognise the groups: the sessions the bench started, and its database."""

    portal: int  # pid of gunicorn's master, started in its own session
    sandbox: int | None  # pid of the Sage sandbox, also in its own session
    database: str  # PostgreSQL's backends name it in their process title

    def group(self, proc: Path, stat: list[str]) -> str | None:
        """The group of one process, from its stat fields (3 onwards); None: not ours."""
        pgrp, session = int(stat[2]), int(stat[3])
        if self.portal in (pgrp, session):
            return PORTAL
        if self.sandbox is not None and self.sandbox in (pgrp, session):
            return SANDBOX
        try:
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode().split()
        except (OSError, UnicodeDecodeError):
            return None
        # "postgres: 15/main: postgres portal_bench_123 127.0.0.1(40720) idle"
        if title[:1] == ["postgres:"] and self.database in title:
            return POSTGRES
        return None


def snapshot(processes: Processes) -> dict[tuple[int, int], tuple[str, int]]:
    """(group, CPU ticks so far) of each process of a group, by (pid, start time)."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            text = (proc / "stat").read_text()
        except OSError:  # the process has exited
            continue
        stat = text[text.rindex(")") + 2 :].split()  # the fields after "pid (comm) "
        group = processes.group(proc, stat)
        if group:
            # Fields 14, 15 and 22 of proc(5): utime, stime and the start time, which
            # tells a reused pid from the process that had it before.
            found[int(proc.name), int(stat[19])] = (group, int(stat[11]) + int(stat[12]))
    return found


def used(before: dict, after: dict) -> dict[str, int]:
    """Ticks used per group between two snapshots; a new process counts whole."""
    used = dict.fromkeys({group for group, _ in after.values()}, 0)
    for key, (group, ticks) in after.items():
        earlier = before[key][1] if key in before else 0
        used[group] += max(0, ticks - earlier)
    return used


def _children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(run: Callable[[], LoadResult], processes: Processes) -> Callable[[], LoadResult]:
    """`run` (one wrk run), its result carrying the CPU ms per request of each group."""

    def measured_run() -> LoadResult:
        children, before = _children_seconds(), snapshot(processes)
        result = run()
        after, wrk_seconds = snapshot(processes), _children_seconds() - children
        if not result.requests:
            return result
        cpu_ms = {g: t * TICK_MS / result.requests for g, t in used(before, after).items()}
        cpu_ms[WRK] = wrk_seconds * 1000 / result.requests
        return replace(result, cpu_ms=cpu_ms)

    return measured_run


def median(samples: list[dict[str, float]]) -> dict[str, float]:
    """Per group, the median over the runs that measured it."""
    return {
        group: statistics.median(values)
        for group in GROUPS
        if (values := [sample[group] for sample in samples if group in sample])
    }
