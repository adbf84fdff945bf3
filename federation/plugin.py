"""How federation joins a node (entry point ``maillon.plugins``: see node/plugins.py)."""

from __future__ import annotations

import argparse

from federation import discovery, peers, routes
from federation.delivery import Deliverer
from federation.handlers import follows, objects, participation  # noqa: F401 - registers
from federation.negotiation import ActivityPubNegotiation
from federation.process import InboxProcessor
from federation.service import Federation, Unreachable
from federation.sync import Sync
from node.cli import runtime_command
from node.runtime import Runtime


def register(runtime: Runtime) -> None:
    """The federation service, the ``deliver``/``inbox``/``sync`` jobs, the routes."""
    federation = Federation(runtime)
    runtime.extensions["federation"] = federation
    runtime.closers.append(federation.close)
    runtime.registry.register("deliver", Deliverer(federation))
    runtime.registry.register_batch("inbox", InboxProcessor(federation))
    runtime.registry.register("sync", Sync(federation))
    runtime.registry.register("purge", peers.Purger(runtime))
    runtime.first_pages.append(routes.inbox_router)  # a POST per activity received
    runtime.pages.extend([discovery.router, routes.router])
    runtime.middleware.append((ActivityPubNegotiation, {}))


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "peers",
        help="federate with other nodes: follow, list, block, unblock, allow",
        description="Manage the nodes this one federates with.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    follow = actions.add_parser(
        "follow", help="follow a node (its URL, its actor URL or relay@host)"
    )
    follow.add_argument("target")
    follow.set_defaults(command=runtime_command(_follow))
    listed = actions.add_parser("list", help="list known peers and their state")
    listed.set_defaults(command=runtime_command(_list))
    for name, text in (
        (
            "block",
            "refuse everything from a domain, send it nothing, and delete what was stored "
            "of it (copies, actors, followers, unprocessed activities)",
        ),
        ("unblock", "lift a block (the domain returns to the default policy)"),
        ("allow", "allow a domain (needed in MAILLON_FEDERATION=allowlist mode)"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("domain")
        action.set_defaults(command=runtime_command(_policy), policy_action=name)
    add_key_commands(commands)


def add_key_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "keys",
        help="actors' signing keys: rotate",
        description="Manage the signing keys of this node's actors.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    rotate = actions.add_parser(
        "rotate", help="give an actor (its URL) a new key pair and send an Update of it"
    )
    rotate.add_argument("actor")
    rotate.set_defaults(command=runtime_command(_rotate))


def _rotate(args: argparse.Namespace, runtime: Runtime) -> int:
    federation: Federation = runtime.extensions["federation"]
    try:
        peers.rotate_key(federation, args.actor)
    except peers.PeerError as error:
        print(f"maillon: {error}")
        return 1
    print(f"new key for {args.actor}; its followers receive an Update")
    return 0


def _follow(args: argparse.Namespace, runtime: Runtime) -> int:
    federation: Federation = runtime.extensions["federation"]
    try:
        peer = peers.follow(federation, args.target)
    except (peers.PeerError, Unreachable) as error:
        print(f"maillon: {error}")
        return 1
    print(f"following {peer.domain}: {peer.following} (the Follow is being delivered)")
    return 0


def _list(args: argparse.Namespace, runtime: Runtime) -> int:
    with runtime.transaction() as session:
        rows = peers.listing(session)
    print(f"{'domain':<32} {'policy':<8} {'following':<10} follows us  unavailable")
    for row in rows:
        print(
            f"{row['domain']:<32} {row['policy']:<8} {row['following']:<10} "
            f"{'yes' if row['follows_us'] else 'no':<11} {'yes' if row['unavailable'] else 'no'}"
        )
    return 0


def _policy(args: argparse.Namespace, runtime: Runtime) -> int:
    action = {"block": peers.block, "unblock": peers.unblock, "allow": peers.allow}
    with runtime.transaction() as session:
        peer = action[args.policy_action](session, args.domain)
        domain, policy = peer.domain, peer.policy
    print(f"{domain}: {policy}")
    if args.policy_action == "block":
        removed, _ = peers.purge(runtime, domain)
        print(f"removed: {peers.purged_text(removed)}")
    return 0
