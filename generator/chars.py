"""Characters that make a name look other than it is spelt.

Shared by the linter's output, which escapes them, and by the build, which
refuses them in note titles: the two must agree on what a reader cannot see.
"""

from __future__ import annotations

import unicodedata

# Format characters (bidi overrides, zero-width spaces, soft hyphens) and the
# line and paragraph separators: each hides, reorders or breaks what follows.
INVISIBLE_CATEGORIES = frozenset({"Cf", "Zl", "Zp"})
# ZWNJ and ZWJ are format characters too, but Persian, Indic scripts and
# emoji sequences need them, and they change no letter's order.
JOINERS = frozenset("\u200c\u200d")


def invisible(char: str) -> bool:
    """Whether ``char`` is a format or separator character other than a joiner."""
    return unicodedata.category(char) in INVISIBLE_CATEGORIES and char not in JOINERS
