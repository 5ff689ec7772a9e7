"""vaultgen: runnable Python experiments rendered into a measured Obsidian vault."""

__version__ = "0.1.0"
