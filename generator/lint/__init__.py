"""The Obsidian vault linter: ``vaultgen check`` and ``vaultgen graph`` as a library.

It imports nothing of vaultgen but ``generator.errors``, ``generator.writer.fsops``
(the one atomic write), ``generator.usercache`` (where its cache lives) and
``generator.chars`` (what a reader cannot see), each of which imports only the
errors and the standard library.  The public API::

    from generator.lint import check_vault, link_graph, vault_index

    report = check_vault(root)            # CheckReport: .findings (Finding), .ok, .to_json()
    graph = link_graph(root)              # LinkGraph: .edges (Edge), .inbound (backlinks)
    index = vault_index(root)             # VaultIndex over the vault's notes and attachments
    where = index.resolve_link("Note#Some heading|shown", "folder/Source.md")
    where.path, where.heading, where.block, where.ok    # Resolved

``parse_links(text)`` gives the links (``Link`` named tuples) of one note's text.
"""

from generator.lint.check import CheckReport, Finding, check_vault, link_graph, vault_index
from generator.lint.links import Link, heading_key, name_key
from generator.lint.mdplugin import parse_links
from generator.lint.resolve import Edge, LinkGraph, Resolved, VaultIndex

__all__ = [
    "CheckReport", "Edge", "Finding", "Link", "LinkGraph", "Resolved", "VaultIndex",
    "check_vault", "heading_key", "link_graph", "name_key", "parse_links", "vault_index",
]
