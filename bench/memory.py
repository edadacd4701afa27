"""This process's resident memory, for benchmarks that print what a part costs to hold."""
from __future__ import annotations

from pathlib import Path


def rss_mb() -> float:
    """Linux's VmRSS of this process in MB; NaN where /proc has no such line."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
