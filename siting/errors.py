"""The one exception type the tool raises for bad input."""


class SitingError(Exception):
    """A problem with the user's input, reported as one clear line.

    The message names the input (file, key, region) and the problem. The CLI
    prints it and exits with a non-zero status; nothing is written.
    """


class NoOverlapError(SitingError):
    """An input has no data over the area asked for (a layer or DEM that misses a tile or the region).

    The tiled engine treats it as "no data on this tile"; whether the layer
    covers enough of the region is judged on the whole region afterwards.
    """


def reason(exc: BaseException) -> str:
    """The message of the error that started ``exc``: one line a user can act on.

    GDAL errors surface in rasterio as "Read failed. See previous exception for details."; the
    user never sees the previous exception, so the first cause that says something specific is
    given instead (e.g. "TIFFFillTile:Read error at row 1536 … got 5759 bytes, expected 53903").
    """
    chain, seen = [], set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        chain.append(e)
        e = e.__cause__ or e.__context__
    for e in reversed(chain):  # the root cause first
        text = " ".join(str(e).split())
        if text and "see previous exception" not in text.lower():
            truncated = any(w in text for w in ("Read error", "got ", "expected", "TIFFReadDirectory",
                                                  "not recognized as", "Failed to read"))
            return text[:300] + (" (the file may be truncated or damaged)" if truncated else "")
    return type(exc).__name__
