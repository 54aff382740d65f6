"""A loopback HTTP server and tiny fixture files for the ``siting.io.fetch`` tests.

The server listens on 127.0.0.1 only and serves files by URL path (the public
host is the first path part, as produced by ``siting.io.fetch.rebase_url``). It
honours ``Range: bytes=N-`` and can simulate failures per path.
"""

from __future__ import annotations

import io
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np


def tiny_geotiff_bytes(seed: int = 0, size_px: int = 48, west_deg: float = 108.0, north_deg: float = 23.0) -> bytes:
    """A small uncompressed float32 GeoTIFF (EPSG:4326) as bytes."""
    from affine import Affine
    from rasterio.io import MemoryFile

    data = np.random.default_rng(seed).random((size_px, size_px), dtype=np.float32)
    profile = dict(driver="GTiff", width=size_px, height=size_px, count=1, dtype="float32", crs="EPSG:4326",
                   transform=Affine(1 / size_px, 0.0, west_deg, 0.0, -1 / size_px, north_deg))
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            dst.write(data, 1)
        return bytes(mem.read())


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """A zip archive holding ``members`` (name -> content); the same bytes whenever it is made (a fixed member
    date, not the clock's, which would differ between two calls two seconds apart)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), content,
                        compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


@dataclass
class ServerState:
    """Files, simulated failures and a request log shared with the handler threads.

    ``modes`` maps a URL path to one of ``"cut_once"`` (first response sends
    half the body and closes), ``"stall"`` (wait before answering, every
    time), ``"ignore_range"`` (always 200 with the whole file). Paths not in
    ``files`` answer 404.
    """

    files: dict[str, bytes] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)
    stall_s: float = 3.0
    log: list[tuple[str, str | None, int]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def requests_for(self, path: str) -> list[tuple[str, str | None, int]]:
        """Logged ``(path, range_header, status)`` for one path."""
        with self.lock:
            return [r for r in self.log if r[0] == path]


def _parse_range_start(header: str | None) -> int | None:
    if not header or not header.startswith("bytes=") or not header.endswith("-"):
        return None
    try:
        return int(header[len("bytes="):-1])
    except ValueError:
        return None


class FixtureHandler(BaseHTTPRequestHandler):
    """Serves :class:`ServerState` files with Range support and simulated failures."""

    state: ServerState  # set on the subclass made by :func:`start_server`
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        path = self.path
        mode = self.state.modes.get(path.split("?")[0])
        range_header = self.headers.get("Range")
        body = self.state.files.get(path)
        if mode == "stall":
            self._log(range_header, 0)
            self.state.stop.wait(self.state.stall_s)
            self.close_connection = True
            return
        if body is None:
            self._log(range_header, 404)
            self._send(404, b"not found", {})
            return
        start = _parse_range_start(range_header)
        if mode == "ignore_range" or start is None:
            status, payload, extra = 200, body, {}
        elif start >= len(body):
            status, payload, extra = 416, b"", {"Content-Range": f"bytes */{len(body)}"}
        else:
            status, payload = 206, body[start:]
            extra = {"Content-Range": f"bytes {start}-{len(body) - 1}/{len(body)}"}
        cut = mode == "cut_once" and not self.state.requests_for(path)
        self._log(range_header, status)
        self._send(status, payload, extra, cut=cut)

    def _log(self, range_header: str | None, status: int) -> None:
        with self.state.lock:
            self.state.log.append((self.path, range_header, status))

    def _send(self, status: int, payload: bytes, extra: dict[str, str], cut: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Accept-Ranges", "bytes")
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload[: len(payload) // 2] if cut else payload)
        self.wfile.flush()
        if cut:
            self.close_connection = True


@dataclass
class FixtureServer:
    """A running loopback server; ``base_url`` is ``http://127.0.0.1:PORT``."""

    server: ThreadingHTTPServer
    thread: threading.Thread
    state: ServerState

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.state.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_server(state: ServerState) -> FixtureServer:
    """Start a :class:`ThreadingHTTPServer` on 127.0.0.1 with a free port, in a daemon thread."""
    handler = type("BoundFixtureHandler", (FixtureHandler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return FixtureServer(server, thread, state)
