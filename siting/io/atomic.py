"""Atomic file writing: write to a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path that replaces ``target`` only if the block succeeds.

    The temporary file lives in the target's folder (same file system) and
    keeps the target's suffix so that format drivers chosen by extension work.
    On any exception the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    os.unlink(tmp)  # some drivers (GPKG) refuse to open an existing empty file
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(target: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_folder(out_dir: str | os.PathLike, writers: dict[str, Callable[[Path], None]]) -> list[Path]:
    """Write several files into ``out_dir``: all of them, or none.

    Each writer is called with a temporary path in a hidden folder inside ``out_dir``; only when every
    writer has succeeded are the files moved into place (one rename each). On an error nothing in
    ``out_dir`` has changed.

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
    """
    from siting.errors import SitingError

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SitingError(f"--out {out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".siting-", dir=out) as tmp:
        for name, write in writers.items():
            write(Path(tmp) / name)
        written = []
        for name in writers:
            os.replace(Path(tmp) / name, out / name)
            written.append(out / name)
    return written
