"""Atomic file writing: write to a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path that replaces ``target`` only if the block succeeds.

    The temporary file lives in the target's folder (same file system) and
    keeps the target's suffix so that format drivers chosen by extension work.
    On any exception the temporary file is removed and ``target`` is untouched.
    A folder that cannot be written is a :class:`siting.errors.SitingError` naming it.
    """
    from siting.errors import SitingError

    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
    except OSError as exc:
        raise SitingError(f"{target}: cannot write ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(tmp)  # some drivers (GPKG) refuse to open an existing empty file
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        try:
            os.replace(tmp_path, target)
        except OSError as exc:
            raise SitingError(f"{target}: cannot write ({exc.strerror or exc})") from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(target: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


SET_RECORD = ".siting-files.json"
_SIGNALS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None),
                             getattr(signal, "SIGHUP", None)) if s is not None)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP (delivered afterwards) for the few renames that put a set of files in place.

    The signals' Python handlers are swapped for one that notes them, and each noted signal is raised again once
    the block is done and the handlers are back. (Blocking them with a signal mask would not do: a signal sent
    to the process goes to any thread that does not block it, and Python runs its handler in the main thread
    all the same.) Only the main thread can set handlers; elsewhere the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []
    earlier = {}
    for sig in _SIGNALS:
        handler = signal.getsignal(sig)
        if handler is not None:  # None: a handler not set from Python, left alone
            earlier[sig] = signal.signal(sig, lambda signum, _frame: noted.append(signum))
    try:
        yield
    finally:
        for sig, handler in earlier.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(noted):
            signal.raise_signal(sig)


def write_folder(out_dir: str | os.PathLike, writers: dict[str, Callable[[Path], None]]) -> list[Path]:
    """Write a set of files into ``out_dir``: the whole new set, or the folder as it was.

    Each writer is called with a temporary path in a hidden folder inside ``out_dir``. Only when every writer
    has succeeded are the files renamed into place, with interrupting signals held for those few renames, so
    an interrupted or failed run leaves the complete earlier set. Files of the earlier set that the new set
    does not have (e.g. ``targets.csv`` of an earlier ``--year`` run) are removed in the same step, so nothing
    stale looks current; the folder's record of its set is ``.siting-files.json``. The hidden folder is
    removed on errors and on interruption.

    Parameters
    ----------
    out_dir : path
        The folder (created if missing; an existing file of that name is an error).
    writers : dict
        File name → function that writes that file at the path it is given.

    Returns
    -------
    list of Path
        The files written, in the order of ``writers``.

    Raises
    ------
    SitingError
        When the folder cannot be created or written (one line naming it and the problem).
    """
    from siting.errors import SitingError

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SitingError(f"--out {out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".siting-", dir=out) as tmp:
            for name, write in writers.items():
                try:
                    write(Path(tmp) / name)
                except SitingError:
                    raise
                except OSError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a driver's own error (e.g. a full disk) becomes one line
                    raise SitingError(f"--out {out}: cannot write {name} ({type(exc).__name__}: {exc})") from None
            record = out / SET_RECORD
            try:
                earlier = json.loads(record.read_text(encoding="utf-8")).get("files", []) if record.exists() else []
            except (OSError, ValueError):
                earlier = []
            (Path(tmp) / SET_RECORD).write_text(json.dumps({"files": list(writers)}), encoding="utf-8")
            written = []
            with _signals_held():
                for name in writers:
                    os.replace(Path(tmp) / name, out / name)
                    written.append(out / name)
                for name in earlier:
                    if name not in writers and "/" not in name and (out / name).is_file():
                        (out / name).unlink()
                os.replace(Path(tmp) / SET_RECORD, record)
    except OSError as exc:
        raise SitingError(f"--out {out}: cannot write ({exc.strerror or exc})") from None
    return written
