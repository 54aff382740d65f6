"""Values computed once per key and shared by the threads that ask for them.

The tiles of a run start together and ask for the same things at once: the checksum of a layer file
(:func:`siting.io.layers.file_sha256`), a decoded block of a raster (:mod:`siting.io.handles`). Each is computed
by the first thread that asks; the others wait for it instead of computing it again.

Cheaper things derived from an object the tiles share (the CRS of a thread's open raster, its WKT) are kept by
the object's identity (:class:`ByIdentity`), where hashing the object would cost as much as deriving them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future
from typing import Any


class ComputedOnce:
    """Values by key, each computed once: threads asking for a key together wait for one computation, and a
    failure is not kept (the next one to ask computes it again). Thread-safe.

    With ``max_bytes``, the values kept (sized by their ``nbytes``) are dropped least recently used first beyond
    it, and a value larger than it is handed out without being kept; without, every value is kept.
    """

    def __init__(self, max_bytes: int | None = None):
        self.max_bytes = None if max_bytes is None else int(max_bytes)
        self.bytes = 0  # of the values kept (with max_bytes)
        self.computed = 0
        self.hits = 0
        self._lock = threading.Lock()
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._pending: dict[Hashable, Future] = {}

    def __iter__(self) -> Iterator[Hashable]:
        """The keys kept and those being computed."""
        with self._lock:
            return iter([*self._values, *self._pending])

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The value under ``key``, computed by ``compute()`` if no thread has it. Raises what ``compute`` raises."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                self.hits += 1
                return self._values[key]
            fut = self._pending.get(key)
            mine = fut is None
            if mine:
                fut = self._pending[key] = Future()
        if not mine:
            return fut.result()
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                self._pending.pop(key, None)
            fut.set_exception(exc)
            raise
        with self._lock:
            self._pending.pop(key, None)
            self.computed += 1
            self._keep(key, value)
        fut.set_result(value)
        return value

    def _keep(self, key: Hashable, value: Any) -> None:
        if self.max_bytes is None:
            self._values[key] = value
            return
        if value.nbytes > self.max_bytes:
            return
        self._values[key] = value
        self.bytes += value.nbytes
        while self.bytes > self.max_bytes:
            self.bytes -= self._values.popitem(last=False)[1].nbytes

    def forget_pending(self) -> None:
        """For a forked child: the threads computing values stayed in the parent, so what they had not finished
        is forgotten (asked for again, it is computed in the child), and the lock is new (one of them may have
        held it)."""
        self._lock = threading.Lock()
        self._pending = {}


class ByIdentity:
    """Values derived from an object (and an optional extra key), kept by the object's identity.

    The object is kept with its value, so its ``id`` cannot pass to another object while the entry exists; at
    ``max_items`` entries all are dropped. For objects whose hash costs as much as what is derived from them, and
    that do not change (CRSs, open rasters). Two threads may both compute a value the first time (the same value).
    """

    def __init__(self, max_items: int):
        self.max_items = int(max_items)
        self._items: dict[tuple[int, Hashable], tuple[Any, Any]] = {}

    def __len__(self) -> int:
        return len(self._items)

    def get(self, obj: Any, compute: Callable[[], Any], key: Hashable = None) -> Any:
        """The value for ``obj`` (and ``key``), ``compute()`` the first time. Raises what ``compute`` raises (a
        failure is not kept)."""
        k = (id(obj), key)
        hit = self._items.get(k)
        if hit is not None and hit[0] is obj:
            return hit[1]
        value = compute()
        if len(self._items) >= self.max_items:
            self._items.clear()
        self._items[k] = (obj, value)
        return value
