"""How search joins a node (entry point ``maillon.plugins``: see node/plugins.py)."""

from __future__ import annotations

import argparse
import sys

from node.cli import runtime_command
from node.runtime import Runtime
from search import api
from search.indexer import drift, index_jobs, reindex
from search.service import SearchService, make_backend


def register(runtime: Runtime) -> None:
    """The configured backend, the ``index`` job handler and ``GET /api/v1/search``."""
    service = SearchService(runtime, make_backend(runtime.settings))
    runtime.extensions["search"] = service
    runtime.closers.append(service.close)
    runtime.registry.register_batch("index", index_jobs(runtime, service))
    runtime.routers.append(api.router)


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "reindex",
        help="rebuild the search index from the database (or --check the drift)",
        description="Rebuild the search index from the database, with progress; with "
        "--check, only compare them and print the drift (exit 1 when there is any).",
    )
    parser.add_argument(
        "--check", action="store_true", help="compare database and index, change nothing"
    )
    parser.set_defaults(command=runtime_command(_reindex))


def _reindex(args: argparse.Namespace, runtime: Runtime) -> int:
    service: SearchService = runtime.extensions["search"]
    if args.check:
        found = drift(runtime, service)
        print(
            f"drift: {found.total} (missing {found.missing}, stale {found.stale}, "
            f"extra {found.extra})"
        )
        return 0 if found.total == 0 else 1

    def progress(kind: str, done: int, total: int) -> None:
        print(f"\r  {kind:<12} {done}/{total}", end="", file=sys.stderr, flush=True)

    written = reindex(runtime, service, progress)
    print(file=sys.stderr)
    print(f"reindexed {written} documents")
    return 0
