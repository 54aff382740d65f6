"""Where the tiles run: local threads, one at a time, or a dask.distributed cluster.

:func:`run_tiles` yields tile results in tile order as soon as they and all
tiles before them are done, so only the tiles in flight are held in memory.
The reduction (:mod:`siting.engine.reduce`) consumes them in that order, which is what
makes every scheduler give bit-identical results.
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from siting.engine.compute import RunContext, TileOut, compute_tile
from siting.errors import SitingError
from siting.engine.layout import Tile


def _client_for(scheduler):
    """A dask.distributed Client for a Client or an address; None for local execution."""
    if scheduler is None or isinstance(scheduler, str) and scheduler in ("threads", "sync", "synchronous"):
        return None
    try:
        from dask.distributed import Client
    except ImportError as exc:  # pragma: no cover - distributed is a declared dependency
        raise SitingError("--scheduler needs dask.distributed: pip install 'dask[distributed]'") from exc
    if isinstance(scheduler, Client):
        return scheduler
    if isinstance(scheduler, str) and scheduler.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
        try:
            return Client(scheduler, timeout="10s")
        except OSError as exc:
            raise SitingError(f"--scheduler {scheduler}: cannot connect to a dask scheduler there ({exc})") from exc
    raise SitingError(f"--scheduler {scheduler!r}: give threads, sync, or a dask scheduler address tcp://HOST:PORT")


def run_tiles(ctx: RunContext, tiles: list[Tile], scheduler=None, workers: int | None = None,
              progress: Callable[[str], None] | None = None) -> Iterator[TileOut | None]:
    """Compute every tile, locally on threads or on a dask cluster; yields the results in tile order.

    Results are handed over as soon as they and all tiles before them are done,
    so only the tiles in flight are held in memory.

    Parameters
    ----------
    ctx : RunContext
    tiles : list of Tile
    scheduler : None, "threads", "sync", str address or dask.distributed.Client
        None and "threads": local threads; "sync": one at a time in this thread
        (for debugging and profiling); an address or Client: the dask cluster.
    workers : int, optional
        Local threads (default: the number of CPUs).
    """
    say = progress or (lambda _m: None)
    client = _client_for(scheduler)
    if client is not None:
        say(f"{len(tiles)} tiles on the dask cluster at {client.scheduler.address}")
        try:
            ctx_future = client.scatter(ctx, broadcast=True, hash=False)
            futures = client.map(compute_tile, [ctx_future] * len(tiles), tiles, pure=False)
            for fut in futures:
                yield fut.result()
                fut.release()
        finally:
            if isinstance(scheduler, str):  # we opened it
                client.close()
        return
    if workers is not None and workers < 1:
        raise SitingError(f"--workers {workers}: give at least 1 thread")
    n = workers or os.cpu_count() or 1
    sync = scheduler in ("sync", "synchronous") or n == 1
    say(f"{len(tiles)} tiles of up to {max(t.height for t in tiles)} x {max(t.width for t in tiles)} cells"
        + ("" if sync else f" on {n} threads"))
    if sync:
        for t in tiles:
            yield compute_tile(ctx, t)
        return
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="siting-tile") as pool:
        pending = deque()
        it = iter(tiles)
        for t in itertools.islice(it, 2 * n):  # a few tiles ahead, not all of them
            pending.append(pool.submit(compute_tile, ctx, t))
        while pending:
            out = pending.popleft().result()
            nxt = next(it, None)
            if nxt is not None:
                pending.append(pool.submit(compute_tile, ctx, nxt))
            yield out
