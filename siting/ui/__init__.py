"""The command line: ``cli`` (typer; parses options and calls the API) and ``report`` (rich tables).

Nothing else imports this package. May import anything.
"""
