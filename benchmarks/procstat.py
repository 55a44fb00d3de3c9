"""CPU time and memory of a process and its descendants, read from /proc (Linux).

The `pipeline` suite treats the service as a black box, so its cost is what the kernel accounts to the
process tree: user + system CPU seconds of every live process under the root (worker processes
included), and the sum of their resident set sizes. Reading /proc needs no extra package and works
for any process, which `resource.getrusage` (this process or reaped children only) does not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class TreeSample:
    """CPU seconds (user + system, all threads) and resident bytes of a process tree at one moment."""

    cpu_s: float
    rss_bytes: int
    processes: int


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may contain spaces and parentheses: split after its last ')'
    return raw[raw.rindex(")") + 2 :].split()


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    task = Path(f"/proc/{pid}/task")
    try:
        threads = list(task.iterdir())
    except OSError:
        return kids
    for t in threads:
        try:
            kids += [int(x) for x in (t / "children").read_text().split()]
        except OSError:
            continue
    return kids


def descendants(pid: int) -> list[int]:
    """`pid` and every live process below it."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += _children(p)
    return out


def sample_tree(pid: int) -> TreeSample:
    """CPU seconds and RSS of `pid` and its live descendants now (exited ones are not counted)."""
    cpu = 0.0
    rss = 0
    n = 0
    for p in descendants(pid):
        fields = _stat_fields(p)
        if fields is None:
            continue
        # after the name: state(0) ... utime(11) stime(12) ... rss pages(21)
        cpu += (int(fields[11]) + int(fields[12])) * _TICK_S
        rss += int(fields[21]) * _PAGE
        n += 1
    return TreeSample(cpu_s=cpu, rss_bytes=rss, processes=n)


def machine_cpu_s() -> tuple[float, float]:
    """(busy CPU seconds, total CPU seconds) of the whole machine since boot, from /proc/stat."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) * _TICK_S for v in first]
    idle = values[3] + (values[4] if len(values) > 4 else 0.0)
    total = sum(values[:8])
    return total - idle, total
