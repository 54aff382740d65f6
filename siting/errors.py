"""The one exception type the tool raises for bad input."""


class SitingError(Exception):
    """A problem with the user's input, reported as one clear line.

    The message names the input (file, key, region) and the problem. The CLI
    prints it and exits with a non-zero status; nothing is written.
    """
