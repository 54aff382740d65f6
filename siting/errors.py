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
