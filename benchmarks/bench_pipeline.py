"""Wall time and peak memory of the whole ``siting report`` pipeline at several grid resolutions.

What it measures
    The command ``siting report guangxi -q --format csv --resolution R`` (run as
    ``python -m siting.ui.cli ...`` with stdout discarded), once per resolution R and
    repeat.  Each run is its own child process, so it includes interpreter start-up
    and imports, and its peak resident memory (max RSS) is that of this one run:
    the child is reaped with ``os.wait4``, which returns the rusage of that child
    only.  One unreported warm-up run at 1000 m comes first (it fills the boundary
    cache in ``~/.cache/siting`` or ``$SITING_CACHE`` and warms the OS file cache).

How to read it
    ``wall s`` is the median over ``--repeat`` runs, ``peak RSS MB`` the largest
    max RSS seen over those runs.  ``cells x`` is how many more grid cells the
    resolution has than the first one listed ((R0 / R) ** 2, e.g. 16 for 250 m vs
    1000 m).  ``time x`` and ``mem x`` are the measured ratios to the first
    resolution; compare them with ``cells x`` to see how the pipeline scales.
    Absolute numbers depend on the machine and its load; compare ratios from the
    same invocation, not absolute numbers across machines.

Usage
    python benchmarks/bench_pipeline.py [--repeat 3] [--resolutions 1000,250] [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass

REGION = "guangxi"


@dataclass
class Case:
    resolution_m: float
    wall_s: list[float]
    maxrss_mb: list[float]

    @property
    def median_wall_s(self) -> float:
        return statistics.median(self.wall_s)

    @property
    def peak_rss_mb(self) -> float:
        return max(self.maxrss_mb)


def command(resolution_m: float) -> list[str]:
    return [sys.executable, "-m", "siting.ui.cli", "report", REGION, "-q", "--format", "csv",
            "--resolution", f"{resolution_m:g}"]


def run_once(resolution_m: float) -> tuple[float, float]:
    """Run the command once; return (wall seconds, max RSS in MB) of that child alone."""
    with tempfile.TemporaryFile() as errf:
        t0 = time.perf_counter()
        proc = subprocess.Popen(command(resolution_m), stdout=subprocess.DEVNULL, stderr=errf)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped; keep Popen consistent
        if proc.returncode != 0:
            errf.seek(0)
            sys.stderr.write(errf.read().decode(errors="replace"))
            raise SystemExit(f"{' '.join(command(resolution_m))} failed with exit code {proc.returncode}")
    # ru_maxrss is kilobytes on Linux, bytes on macOS.
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return wall, usage.ru_maxrss / scale


def machine() -> dict[str, object]:
    return {"platform": platform.platform(), "cpu_count": os.cpu_count(),
            "python": platform.python_version(), "date": dt.datetime.now().astimezone().isoformat(timespec="seconds")}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3, help="runs per resolution (default 3)")
    p.add_argument("--resolutions", default="1000,250", help="comma-separated grid sizes in metres")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = p.parse_args(argv)
    resolutions = [float(r) for r in args.resolutions.split(",") if r.strip()]

    info = machine()
    print(f"machine: {info['platform']}, {info['cpu_count']} CPUs, Python {info['python']}")
    print(f"date:    {info['date']}")
    print(f"command: python {' '.join(command(resolutions[0])[1:-1])} R  (x{args.repeat} per R, median time, max RSS)",
          flush=True)

    run_once(1000.0)  # warm-up, not reported
    cases = []
    for res in resolutions:
        runs = [run_once(res) for _ in range(args.repeat)]
        cases.append(Case(res, [w for w, _ in runs], [m for _, m in runs]))

    base = cases[0]
    print(f"\n{'resolution m':>12} {'cells x':>8} {'wall s':>8} {'peak RSS MB':>12} {'time x':>7} {'mem x':>6}")
    for c in cases:
        print(f"{c.resolution_m:>12g} {(base.resolution_m / c.resolution_m) ** 2:>8.2f} {c.median_wall_s:>8.2f} "
              f"{c.peak_rss_mb:>12.0f} {c.median_wall_s / base.median_wall_s:>7.2f} "
              f"{c.peak_rss_mb / base.peak_rss_mb:>6.2f}")

    if args.json:
        out = {"machine": info, "region": REGION, "repeat": args.repeat,
               "cases": [asdict(c) | {"median_wall_s": c.median_wall_s, "peak_rss_mb": c.peak_rss_mb}
                         for c in cases]}
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
