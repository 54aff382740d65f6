"""Memory during a run: freed memory kept for the next tile instead of handed back to the system, and the objects
that existed before the run left out of Python's full garbage collections.

A tile allocates and frees hundreds of arrays of 0.1-20 MB. glibc's malloc
gives memory at the top of its heaps back to the system as soon as more than
its trim threshold is free there, and serves blocks above its mmap threshold
with a fresh mapping each time; both thresholds start at 128 KiB and only rise
as large blocks are freed. Every such block is then mapped, faulted in page by
page (the kernel zeroes each 4 KiB page) and unmapped again, and in a process
with two tile threads every unmapping also interrupts the other core to flush
its address translations. On Guangxi's synthetic layers at 100 m with wind
that was 690,000-790,000 page faults and about 2 of 27 CPU-seconds
(``benchmarks/README.md``, "The allocator"); with glibc's thresholds fixed
for the run (:data:`RUN_SETTINGS`) it was 160,000.

:func:`freed_memory_kept` sets them for the run and, at its end, sets the
trim threshold back to glibc's dynamic ceiling and hands the free memory
back (``malloc_trim``), so a notebook does not keep the run's peak. Nothing is
changed on a C library other than glibc, or when the user has set any of
glibc's own malloc variables (``MALLOC_*_`` or ``glibc.malloc`` tunables):
theirs are kept.

:func:`objects_frozen` moves the objects that exist when a run starts (the imported libraries: about 130,000
objects) out of the reach of Python's cyclic garbage collector for the run (``gc.freeze``) and back after it
(``gc.unfreeze``). A full collection during the run otherwise scans them all, about 60 ms holding the GIL while
the other tile thread waits (the atlite comparison's run: 3.21-3.29 s against 3.06-3.16 s frozen). Objects
made during the run are collected as usual. Nothing is done when the caller has frozen objects itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import gc
import os
import threading
from collections.abc import Iterator

# mallopt parameter numbers (glibc <malloc.h>)
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3

MIB = 1 << 20
# During a run. Source: measured (benchmarks/README.md, "The allocator"), within glibc's documented limits
# (mallopt(3)). The mmap threshold is glibc's own ceiling for its dynamic threshold on 64-bit systems
# (DEFAULT_MMAP_THRESHOLD_MAX, 32 MiB): blocks up to a tile's largest arrays come from the heaps. The trim
# threshold (range 256 MiB - 1 GiB measured alike) keeps what a tile freed for the next one; the top pad (0 - 256
# MiB measured; 64 MiB chosen) grows a heap in steps of a tile's arrays instead of page by page.
RUN_SETTINGS = {M_MMAP_THRESHOLD: 32 * MIB, M_TRIM_THRESHOLD: 1024 * MIB, M_TOP_PAD: 64 * MIB}
# After a run: glibc's dynamic trim threshold is twice the mmap threshold (mallopt(3)); its top pad default.
AFTER_SETTINGS = {M_TRIM_THRESHOLD: 64 * MIB, M_TOP_PAD: 128 * 1024}

_ENV_NAMES = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_MMAP_MAX_",
              "MALLOC_ARENA_MAX")


class _Outermost:
    """Something done when the first of nested or concurrent runs starts and undone when the last one ends
    (thread-safe): ``hold(start, stop)`` calls ``start()`` on the first entry and ``stop(state)`` with what it
    returned on the last exit, and yields that state to every holder."""

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._state = None

    @contextlib.contextmanager
    def hold(self, start, stop) -> Iterator:
        with self._lock:
            if self._depth == 0:
                self._state = start()
            self._depth += 1
            state = self._state
        try:
            yield state
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    stop(self._state)


_ALLOCATOR = _Outermost()
_COLLECTOR = _Outermost()


@functools.cache
def _glibc():
    """The running glibc (a ctypes library with ``mallopt`` and ``malloc_trim``), or None."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return None
    except (ValueError, OSError, AttributeError):  # not a GNU system
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def user_tuned(environ=None) -> bool:
    """Whether the environment sets glibc's malloc parameters itself (then siting leaves them alone)."""
    env = os.environ if environ is None else environ
    return any(name in env for name in _ENV_NAMES) or "glibc.malloc." in env.get("GLIBC_TUNABLES", "")


@contextlib.contextmanager
def freed_memory_kept(libc=None, environ=None) -> Iterator[bool]:
    """Keep freed memory in the process for the duration of a run (re-entrant; thread-safe).

    Parameters
    ----------
    libc : object, optional
        What has ``mallopt(param, value)`` and ``malloc_trim(pad)``; default the running glibc (tests pass a
        recorder).
    environ : mapping, optional
        The environment to look for the user's own settings in; default ``os.environ``.

    Yields
    ------
    bool
        Whether the settings were applied (False on another C library, or when the user tuned malloc).
    """
    lib = libc if libc is not None else _glibc()
    if lib is None or user_tuned(environ):
        yield False
        return

    def start():
        for param, value in RUN_SETTINGS.items():
            lib.mallopt(param, value)
        return lib

    def stop(first):  # the library the first run set
        for param, value in AFTER_SETTINGS.items():
            first.mallopt(param, value)
        first.malloc_trim(0)

    with _ALLOCATOR.hold(start, stop):
        yield True


@contextlib.contextmanager
def objects_frozen() -> Iterator[bool]:
    """Leave the objects that exist now out of Python's cyclic collections until the block ends (re-entrant;
    thread-safe). Yields whether they were frozen (False when the caller had frozen objects already)."""

    def start() -> bool:
        if gc.get_freeze_count():
            return False
        gc.freeze()
        return True

    def stop(frozen: bool) -> None:
        if frozen:
            gc.unfreeze()

    with _COLLECTOR.hold(start, stop) as frozen:
        yield frozen
