"""The ``vaultgen`` console script, before anything else is imported.

Importing the CLI (typer, rich, click) takes a noticeable moment, and a
Ctrl-C then would end in Python's own traceback: no vaultgen handler exists
yet.  This module imports nothing but ``sys`` first, so that it can answer
that Ctrl-C as the CLI answers any other: one line and exit status 130.
"""

import sys

EXIT_INTERRUPTED = 130  # as generator.cli


def main() -> None:
    try:
        from generator.cli import entry
    except KeyboardInterrupt:
        sys.stderr.write("interrupted while starting: nothing was read or written\n")
        sys.exit(EXIT_INTERRUPTED)
    entry()
