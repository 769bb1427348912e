"""Part of `make bench`: the CPU an idle `make dev` stack burns.

Sums the CPU time (utime + stime from /proc/PID/stat) of every process under --pid (its
whole tree: moto, `cargo lambda watch` with its cargo and function processes, the bridge,
whatever session each was started in) over --seconds, with no request sent. Prints one
JSON line: the seconds, the CPU seconds, that as a share of one core, and the processes
seen. Linux only (reads /proc). Usage: bench/idle_cpu.py --pid PID [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def read_stat(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read()
    except OSError:  # gone meanwhile
        return None


def stat_fields(pid: int) -> list[str] | None:
    """The fields after the command name (field 2, which may hold spaces): state first."""
    text = read_stat(pid)
    return text[text.rindex(")") + 2:].split() if text else None


def command_name(pid: int) -> str:
    text = read_stat(pid) or "(?)"
    return text[text.index("(") + 1:text.rindex(")")]


def tree(root: int) -> set[int]:
    """root and every process descended from it (by parent pid)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := stat_fields(int(entry))):
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


def cpu_ticks(pids: set[int]) -> dict[int, int]:
    ticks = {}
    for pid in pids:
        if fields := stat_fields(pid):
            ticks[pid] = int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return ticks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    before = cpu_ticks(tree(args.pid))
    started = time.monotonic()
    time.sleep(args.seconds)
    after = cpu_ticks(tree(args.pid))
    elapsed = time.monotonic() - started
    # A process started meanwhile counts from zero; one that ended is lost (an idle stack
    # starts and ends none).
    used_by_pid = {pid: (t - before.get(pid, 0)) / CLOCK_TICKS for pid, t in after.items()}
    used = sum(used_by_pid.values())
    by_command: dict[str, float] = {}
    for pid, seconds in used_by_pid.items():
        name = command_name(pid)
        by_command[name] = by_command.get(name, 0) + seconds
    print(json.dumps({
        "seconds": round(elapsed, 1),
        "cpu_seconds": round(used, 2),
        "percent_of_one_core": round(100 * used / elapsed, 1),
        "processes": len(after),
        "percent_by_command": {name: round(100 * seconds / elapsed, 1)
                               for name, seconds in sorted(by_command.items(), key=lambda kv: -kv[1])
                               if seconds > 0},
    }))


if __name__ == "__main__":
    main()
