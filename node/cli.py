"""The ``maillon`` command: serve a node, migrate, run workers, inspect jobs, administer.

Exit codes: 0 success, 1 the command failed (database unreachable, conflict…),
2 bad arguments or settings. User errors are reported in one message, never a traceback.

The heavy modules (SQLAlchemy, pydantic, FastAPI, the services) are imported by the
commands that use them, so ``maillon --help`` and argument errors answer at once.
"""

from __future__ import annotations

import argparse
import getpass
import os
import signal
import socket
import sys
import threading
import tomllib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from node import plugins

if TYPE_CHECKING:
    from pydantic import ValidationError

    from node.demo import DemoSummary
    from node.runtime import Runtime
    from node.settings import Settings

PROG = "maillon"
JOB_STATES = ("pending", "running", "done", "failed")
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})


class UsageError(Exception):
    """Bad arguments or settings: exit code 2."""


class CommandError(Exception):
    """The command could not do its work: exit code 1."""


# --- entry point -----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run ``maillon`` with these arguments (``sys.argv[1:]`` by default)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help (0) or a usage error (2), already printed
        return stop.code if isinstance(stop.code, int) else 2
    command: Callable[[argparse.Namespace], int] = args.command
    from sqlalchemy.exc import SQLAlchemyError

    from node.errors import DomainError

    try:
        return command(args)
    except UsageError as error:
        _error(str(error))
        return 2
    except CommandError as error:
        _error(str(error))
        return 1
    except DomainError as error:
        _error(error.message)
        return 1
    except SQLAlchemyError as error:
        _error(f"database error: {_first_line(error)}")
        return 1
    except KeyboardInterrupt:
        _error("interrupted")
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Maillon: a territory's organisations, events and projects, federated. "
        "Settings come from MAILLON_* environment variables and ./maillon.toml.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve",
        help="migrate the database and serve the node (HTTP and job workers)",
        description="Migrate the database (safe on every start), optionally load the demo "
        "territory, then serve HTTP with job workers in-process.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on (8000)")
    serve.add_argument(
        "--demo", action="store_true", help="load the demo territory if it is not there yet"
    )
    threads = serve.add_mutually_exclusive_group()
    threads.add_argument(
        "--workers",
        type=_count,
        default=None,
        metavar="N",
        help="job worker threads in this process (default: MAILLON_WORKERS, 1)",
    )
    threads.add_argument(
        "--no-workers",
        action="store_true",
        help="run no job worker here (run `maillon worker` elsewhere)",
    )
    serve.set_defaults(command=cmd_serve)

    migrate_cmd = commands.add_parser(
        "migrate", help="bring the database schema up to date", description="Apply migrations."
    )
    migrate_cmd.set_defaults(command=cmd_migrate)

    worker = commands.add_parser(
        "worker",
        help="run job workers until SIGINT/SIGTERM",
        description="Claim and run jobs from the database, in N threads, until stopped.",
    )
    worker.add_argument(
        "--kinds",
        type=_kinds,
        default=None,
        metavar="KIND[,KIND…]",
        help="only these job kinds (e.g. deliver,index); default: every kind with a handler",
    )
    worker.add_argument(
        "--concurrency", type=_positive, default=1, metavar="N", help="worker threads (1)"
    )
    worker.add_argument("--drain", action="store_true", help="run until no job is due, then exit")
    worker.add_argument(
        "--metrics-port",
        type=_port,
        default=None,
        metavar="PORT",
        help="serve this process's Prometheus metrics on PORT (/metrics)",
    )
    worker.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        metavar="HOST",
        help="address of the metrics endpoint (127.0.0.1)",
    )
    worker.set_defaults(command=cmd_worker)

    jobs = commands.add_parser(
        "jobs",
        help="show the job queue: counts per kind and state, last failures",
        description="Show the job queue; optionally put failed jobs back in it.",
    )
    jobs.add_argument(
        "--retry-failed",
        nargs="?",
        const="",
        default=None,
        metavar="KIND",
        help="put failed jobs (of KIND, or all) back in the queue first",
    )
    jobs.add_argument(
        "--limit", type=_positive, default=10, metavar="N", help="failures to show (10)"
    )
    jobs.set_defaults(command=cmd_jobs)

    backup = commands.add_parser(
        "backup",
        help="write the database (rows and actors' keys) to a backup archive",
        description="Write every table to FILE, a zip of JSON-lines files with a manifest, "
        "from one consistent snapshot; the node may keep running. The actors' keys in it "
        "are encrypted with MAILLON_SECRET_KEY: restoring needs the same secret.",
    )
    backup.add_argument("file", metavar="FILE", type=Path, help="the archive to write")
    backup.set_defaults(command=cmd_backup)

    restore = commands.add_parser(
        "restore",
        help="restore a backup archive into an empty database",
        description="Check FILE, then restore its rows in one transaction into an empty "
        "database (created when it has no schema yet; migrated after when the archive "
        "comes from an older version). Stop the node first; then run `maillon reindex`.",
    )
    restore.add_argument("file", metavar="FILE", type=Path, help="the archive to restore")
    restore.add_argument(
        "--force", action="store_true", help="replace the rows of a database that has some"
    )
    restore.set_defaults(command=cmd_restore)

    admin = commands.add_parser("admin", help="administer the node", description="Admin tasks.")
    admin_commands = admin.add_subparsers(title="admin commands", metavar="TASK", required=True)
    create_user = admin_commands.add_parser(
        "create-user",
        help="create an account",
        description="Create a local account; without --password, the password is prompted.",
    )
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--name", required=True)
    create_user.add_argument("--password", help="the password (prompted when omitted)")
    create_user.add_argument(
        "--admin", action="store_true", help="make the account a node administrator"
    )
    create_user.set_defaults(command=cmd_create_user)

    demo = commands.add_parser("demo", help="the demo territory", description="Demo data.")
    demo_commands = demo.add_subparsers(title="demo commands", metavar="TASK", required=True)
    demo_load = demo_commands.add_parser(
        "load",
        help="load the demo territory (does nothing when it is there)",
        description="Load the demo territory « Métropole lilloise » through the services.",
    )
    demo_load.set_defaults(command=cmd_demo_load)
    for plugin in plugins.installed():
        add_commands = getattr(plugin, "add_commands", None)
        if add_commands is not None:
            add_commands(commands)
    return parser


def runtime_command(
    handler: Callable[[argparse.Namespace, Runtime], int],
) -> Callable[[argparse.Namespace], int]:
    """Wrap a plugin command ``(args, runtime) -> int``: settings read, schema checked."""

    def run(args: argparse.Namespace) -> int:
        with _node(_settings()) as runtime:
            _require_schema(runtime)
            return handler(args, runtime)

    return run


# --- argument types ----------------------------------------------------------------------


def _port(value: str) -> int:
    number = _integer(value)
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port (1-65535)")
    return number


def _count(value: str) -> int:
    number = _integer(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value!r} is negative")
    return number


def _positive(value: str) -> int:
    number = _integer(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} must be at least 1")
    return number


def _integer(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None


def _kinds(value: str) -> list[str]:
    kinds = [kind.strip() for kind in value.split(",") if kind.strip()]
    if not kinds:
        raise argparse.ArgumentTypeError("give at least one job kind, e.g. deliver,index")
    return kinds


# --- commands ----------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn  # only this command needs it

    from node.api.app import create_app

    settings = _settings()
    if "public_url" not in settings.model_fields_set:
        # Not configured: canonical URLs follow where this process listens.
        local = "127.0.0.1" if args.host in WILDCARD_HOSTS else args.host
        settings = _settings(public_url=_base_url(local, args.port))
        if args.host in WILDCARD_HOSTS:
            _say(f"MAILLON_PUBLIC_URL is not set: object URLs use {settings.public_url}")
    _check_port_free(args.host, args.port)
    workers = 0 if args.no_workers else args.workers
    with _logging(settings), _node(settings) as runtime:
        _migrate(runtime)
        if args.demo:
            _print_demo(_load_demo(runtime))
        app = create_app(settings, runtime=runtime, workers=workers)
        threads = settings.workers if workers is None else workers
        base = _base_url(args.host, args.port)
        _say(f"Maillon node on {base}  (API {base}/api/v1/docs, health {base}/healthz)")
        _say(f"public URL {settings.public_url}; {threads} job worker thread(s); Ctrl-C stops")
        _warn_secret(settings)
        # Our handler formats uvicorn's records too; our access lines replace uvicorn's.
        config = uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            log_config=None,
            log_level=settings.log_level.lower(),
            access_log=False,
        )
        server = uvicorn.Server(config)
        try:
            # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal
            # to the handler in place before it: ours ends the command cleanly (exit 0).
            with _raise_on_signals():
                server.run()
        except _Stopped:
            _say("stopped")
        except SystemExit as stop:  # uvicorn exits when it cannot start (port taken…)
            code = stop.code if isinstance(stop.code, int) else 1
            if code:
                raise CommandError(f"the server could not start on {base}") from None
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    with _node(_settings()) as runtime:
        _say(f"database {_safe_url(runtime.settings.database_url)}")
        _migrate(runtime)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from node.wakeups import job_notifications

    settings = _settings()
    with _logging(settings), _node(settings) as runtime:
        _require_schema(runtime)
        registered = runtime.registry.kinds
        requested: list[str] | None = args.kinds
        _say(f"job kinds with a handler: {', '.join(registered) or 'none yet'}")
        missing = [kind for kind in requested or [] if kind not in registered]
        if missing:
            _say(f"no handler for {', '.join(missing)}: those jobs stay queued")
        _warn_secret(settings)
        active = sorted(set(requested or registered) & set(registered))
        if args.drain:
            handled = runtime.worker(active).drain() if active else 0
            _say(f"handled {handled} job(s); nothing more is due")
            return 0
        if not active:
            _say("nothing to run: the worker idles until SIGINT/SIGTERM")
        else:
            _say(f"running {', '.join(active)} in {args.concurrency} thread(s)")
        stop = threading.Event()
        running = [
            threading.Thread(
                target=runtime.worker(active).run_forever, args=(stop,), name=f"worker-{n}"
            )
            for n in range(args.concurrency if active else 0)
        ]
        with (
            _metrics_server(runtime, args.metrics_host, args.metrics_port),
            _stop_on_signals(stop),
            job_notifications(runtime.engine) if running else nullcontext(),
        ):
            for thread in running:
                thread.start()
            while not stop.wait(0.5):
                pass
            _say("stopping: finishing the jobs in hand…")
            for thread in running:
                thread.join()
        _say("stopped")
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    with _node(_settings()) as runtime:
        _require_schema(runtime)
        if args.retry_failed is not None:
            kind = args.retry_failed or None
            count = runtime.queue.retry_failed(kind)
            what = f"failed {kind} job(s)" if kind else "failed job(s)"
            _say(f"put {count} {what} back in the queue")
        _print_counts(runtime.queue.counts())
        failures = runtime.queue.failures(limit=args.limit)
        if failures:
            _say("")
            _say("last failures (most recent first):")
            rows = [
                [
                    str(job.id),
                    job.kind,
                    job.state,
                    f"{job.attempts}/{job.max_attempts}",
                    job.updated.strftime("%Y-%m-%d %H:%M:%S"),
                    _first_line(job.last_error or ""),
                ]
                for job in failures
            ]
            _say(_table(["ID", "KIND", "STATE", "TRIES", "UPDATED (UTC)", "ERROR"], rows))
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from node.backup import BackupError, write_backup

    settings = _settings()
    path: Path = args.file
    with _node(settings) as runtime:
        _say(f"database {_safe_url(settings.database_url)}")
        try:
            manifest = write_backup(
                runtime.engine, path, secret_key=settings.secret_key, progress=_print_table
            )
        except BackupError as error:
            raise CommandError(str(error)) from None
    _say(
        f"wrote {path}: {manifest.total_rows} rows in {len(manifest.tables)} tables, "
        f"schema revision {manifest.schema_revision}"
    )
    _say(
        "it holds the actors' signing keys, encrypted with MAILLON_SECRET_KEY: keep it as "
        "private as the database, and restore it where the same secret is set"
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from node.backup import BackupError, NotEmpty, restore_backup, secret_key_check

    settings = _settings()
    path: Path = args.file
    with _node(settings) as runtime:
        _say(f"database {_safe_url(settings.database_url)}")
        try:
            restored = restore_backup(runtime.engine, path, force=args.force, progress=_print_table)
        except NotEmpty as error:
            raise CommandError(
                f"{error}: restore into an empty database, or pass --force to replace them"
            ) from None
        except BackupError as error:
            raise CommandError(str(error)) from None
    manifest = restored.manifest
    total = sum(restored.counts.values())
    replaced = " (its previous rows replaced)" if restored.replaced else ""
    _say(
        f"restored {total} rows in {len(restored.counts)} tables from {path}{replaced}: "
        f"backup of {manifest.created:%Y-%m-%d %H:%M} UTC, Maillon {manifest.maillon_version}"
    )
    if restored.migrated_from is not None:
        _say(f"schema migrated: {restored.migrated_from} → the current revision")
    if restored.counts.get("actorkey") and manifest.secret_key_check != secret_key_check(
        settings.secret_key
    ):
        _error(
            "warning: MAILLON_SECRET_KEY differs from the one of the node that made this "
            "backup: its actors cannot sign until that secret is set"
        )
    _say("now run `maillon reindex` to rebuild the search index")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from node.schemas import AccountIn
    from node.services import accounts

    password = args.password if args.password is not None else _ask_password()
    try:
        data = AccountIn(email=args.email, password=password, name=args.name)
    except ValidationError as error:
        raise UsageError(_validation_message("invalid account", error, prefix="--")) from None
    with _node(_settings()) as runtime:
        _require_schema(runtime)
        with runtime.transaction() as session:
            person = accounts.register(session, runtime.context, data)
            person.is_admin = bool(args.admin)
        role = " (node administrator)" if args.admin else ""
        _say(f"created account {person.email} @{person.username}{role}, id {person.id}")
    return 0


def cmd_demo_load(args: argparse.Namespace) -> int:
    with _node(_settings()) as runtime:
        _require_schema(runtime)
        _print_demo(_load_demo(runtime))
    return 0


# --- helpers -----------------------------------------------------------------------------


def _settings(**overrides: object) -> Settings:
    """The node settings, or a UsageError that names each bad setting."""
    from pydantic import ValidationError

    from node.settings import load_settings

    try:
        settings = load_settings(**overrides)
    except ValidationError as error:
        raise UsageError(
            _validation_message("invalid settings (environment or maillon.toml)", error)
        ) from None
    except (tomllib.TOMLDecodeError, OSError) as error:
        raise UsageError(f"cannot read maillon.toml: {error}") from None
    return settings


def _validation_message(title: str, error: ValidationError, prefix: str | None = None) -> str:
    lines = [f"{title}:"]
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"]) or "value"
        name = (
            f"{prefix}{field.replace('_', '-')}"
            if prefix is not None
            else f"{field} (MAILLON_{field.upper()})"
        )
        lines.append(f"  {name}: {problem['msg']}")
    return "\n".join(lines)


@contextmanager
def _logging(settings: Settings) -> Iterator[None]:
    """Log as the settings say while a long-running command runs."""
    from node.logs import configured

    with configured(settings.log_format, settings.log_level):
        yield


@contextmanager
def _metrics_server(runtime: Runtime, host: str, port: int | None) -> Iterator[None]:
    """Serve the runtime's metrics on ``host:port`` while inside (nothing without a port)."""
    if port is None:
        yield
        return
    from prometheus_client import start_http_server

    try:
        server, thread = start_http_server(port, host, registry=runtime.metrics.registry)
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise CommandError(f"cannot serve metrics on {host}:{port}: {reason}") from None
    _say(f"metrics on {_base_url(host, port)}/metrics")
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def _node(settings: Settings) -> Iterator[Runtime]:
    from sqlalchemy.exc import ArgumentError

    from node.runtime import build_runtime

    try:
        runtime = build_runtime(settings)
    except (ArgumentError, ImportError) as error:
        raise UsageError(
            f"MAILLON_DATABASE_URL {_safe_url(settings.database_url)!r} is not usable: "
            f"{_first_line(error)}"
        ) from None
    try:
        yield runtime
    finally:
        runtime.close()


def _migrate(runtime: Runtime) -> None:
    from node.db import migrate, schema_revision

    before = schema_revision(runtime.engine)
    migrate(runtime.engine)
    after = schema_revision(runtime.engine)
    if before == after:
        _say(f"schema up to date at revision {after}")
    else:
        _say(f"schema migrated: {before or 'empty database'} → {after}")


def _require_schema(runtime: Runtime) -> None:
    from node.db import head_revision, schema_revision

    current = schema_revision(runtime.engine)
    head = head_revision(runtime.engine)
    if current != head:
        found = f"is at revision {current}" if current else "has no schema yet"
        raise CommandError(
            f"the database {found}, this version needs revision {head}: run `maillon migrate` first"
        )


def _load_demo(runtime: Runtime) -> DemoSummary:
    from pydantic import ValidationError

    from node.demo import load_demo
    from node.errors import DomainError

    try:
        return load_demo(runtime, progress=_ProgressPrinter(sys.stdout))
    except DomainError as error:  # e.g. a demo account exists without the territory
        raise CommandError(f"cannot load the demo: {error.message}") from None
    except ValidationError as error:  # node/demo_data.py and node/schemas.py disagree
        raise CommandError(_validation_message("the demo data is invalid", error)) from None


def _print_demo(summary: DemoSummary) -> None:
    from node.demo import ADMIN_EMAIL, DEMO_PASSWORD
    from node.demo_data import PEOPLE

    _say(summary.describe())
    example = PEOPLE[0]["email"] if PEOPLE else ADMIN_EMAIL
    _say(
        f"demo accounts: {ADMIN_EMAIL} (node admin), {example} and the other "
        f"…@demo.maillon.example people; password for all: {DEMO_PASSWORD}"
    )


class _ProgressPrinter:
    """One line per finished phase; a live counter as well on a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = stream.isatty()

    def __call__(self, phase: str, done: int, total: int) -> None:
        line = f"  loading {phase:<15} {done:>4}/{total}"
        if done >= total:
            end = "\n"
        elif self.live:
            end = ""
        else:
            return
        prefix = "\r" if self.live else ""
        self.stream.write(f"{prefix}{line}{end}")
        self.stream.flush()


def _print_table(table: str, rows: int) -> None:
    _say(f"  {table:<16} {rows:>9} rows")


def _print_counts(counts: dict[tuple[str, str], int]) -> None:
    if not counts:
        _say("no jobs")
        return
    kinds = sorted({kind for kind, _ in counts})
    states = [*JOB_STATES, *sorted({s for _, s in counts} - set(JOB_STATES))]
    rows = [[kind, *(str(counts.get((kind, state), 0)) for state in states)] for kind in kinds]
    totals = [sum(counts.get((kind, state), 0) for kind in kinds) for state in states]
    rows.append(["total", *(str(n) for n in totals)])
    _say(_table(["KIND", *(state.upper() for state in states)], rows))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )


def _ask_password() -> str:
    if not sys.stdin.isatty():
        raise UsageError("no terminal to ask for the password: pass --password")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password (again): ") != first:
        raise UsageError("the two passwords differ")
    return first


class _Stopped(Exception):
    """SIGINT or SIGTERM arrived."""


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set ``stop`` on SIGINT/SIGTERM while inside."""

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    with _signal_handler(handler):
        yield


@contextmanager
def _raise_on_signals() -> Iterator[None]:
    """Raise :class:`_Stopped` on SIGINT/SIGTERM while inside."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise _Stopped(signal.Signals(signum).name)

    with _signal_handler(handler):
        yield


@contextmanager
def _signal_handler(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    previous: dict[signal.Signals, Any] = {}
    for wanted in (signal.SIGINT, signal.SIGTERM):
        previous[wanted] = signal.signal(wanted, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _check_port_free(host: str, port: int) -> None:
    """Fail before migrating and loading when the address is taken (uvicorn would too)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        probe = socket.create_server((host, port), family=family)
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise CommandError(f"cannot listen on {host}:{port}: {reason}") from None
    probe.close()


def _base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _first_line(error: object) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _warn_secret(settings: Settings) -> None:
    """A random per-process secret cannot decrypt the keys another process stored."""
    if "secret_key" not in settings.model_fields_set:
        _say(
            "warning: MAILLON_SECRET_KEY is not set: this process uses a random secret, so "
            "sessions and the actors' signing keys do not survive a restart and are not "
            "shared with other processes. Set it (and keep it) on a real node."
        )


def _say(message: str) -> None:
    print(message, flush=True)


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
