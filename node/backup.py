"""Backup and restore: the whole database in one portable archive.

The archive is a zip file (readable with any unzip tool) holding one JSON-lines file per
table, ``tables/<table>.jsonl``, one row per line, and ``manifest.json``: the schema
revision, the Maillon version, the tables in dependency order with their columns, row
counts and SHA-256 checksums. Values are plain JSON (times in ISO 8601 UTC), so an
archive made from SQLite restores into PostgreSQL and back.

Rows are streamed in batches both ways, from one consistent snapshot of the database
(a repeatable-read transaction on PostgreSQL, one read transaction on SQLite). Tables
are read as the database has them (reflected), so a database at an older revision can
be backed up before an upgrade. A restore checks the whole archive first, writes every
row in one transaction and, when the archive comes from an older revision, migrates the
restored database to the code's revision afterwards.

The actors' signing keys are rows of ``actorkey``, their private halves encrypted with
``MAILLON_SECRET_KEY``: the archive is as secret as the database, and the node that
restores it needs the same secret to sign with them. The search index is not in the
archive: ``maillon reindex`` rebuilds it from the restored rows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError as AlembicError
from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, Engine, MetaData, Table, func, literal, select, text
from sqlalchemy.types import DateTime, Integer

from node.db import alembic_config, head_revision, migrate, schema_revision

FORMAT = "maillon-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH_ROWS = 1000
#: Tables that are the migration tool's, not the node's.
SKIPPED_TABLES = frozenset({"alembic_version"})
KEYS_NOTE = (
    "actorkey.private_pem is encrypted with the MAILLON_SECRET_KEY of the node that made "
    "this backup: restore with the same secret, or the actors cannot sign."
)

#: ``(table, rows done)`` after each table.
Progress = Callable[[str, int], None]


class BackupError(Exception):
    """The archive cannot be written, read or restored; the message says why."""


class NotEmpty(BackupError):
    """The target database has rows (``restore`` needs ``force`` to replace them)."""

    def __init__(self, tables: list[str]) -> None:
        super().__init__(f"the database is not empty: {', '.join(tables)} have rows")
        self.tables = tables


class TableEntry(BaseModel):
    name: str
    file: str
    columns: list[str]
    rows: int
    sha256: str


class Manifest(BaseModel):
    format: str
    format_version: int
    maillon_version: str
    schema_revision: str
    created: datetime
    source_database: str
    #: HMAC of a fixed text under the secret key: tells whether a node has the same one.
    secret_key_check: str
    keys_note: str = KEYS_NOTE
    tables: list[TableEntry]

    @property
    def total_rows(self) -> int:
        return sum(table.rows for table in self.tables)


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    counts: dict[str, int]
    #: the archive's revision when the database was migrated after the restore
    migrated_from: str | None
    replaced: bool


def secret_key_check(secret_key: str) -> str:
    return hmac.new(secret_key.encode(), b"maillon-backup-keys", hashlib.sha256).hexdigest()[:16]


# --- backup ------------------------------------------------------------------------------


def write_backup(
    engine: Engine, path: Path, *, secret_key: str, progress: Progress | None = None
) -> Manifest:
    """Write the database to ``path`` (replaced only once the archive is complete)."""
    try:
        handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        raise BackupError(f"cannot write in {path.parent}: {error.strerror}") from None
    try:
        with (
            open(handle, "wb") as stream,
            zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive,
        ):
            manifest = _write_tables(engine, archive, secret_key, progress)
            archive.writestr(MANIFEST, manifest.model_dump_json(indent=2))
        os.replace(partial, path)
    except BaseException:  # interrupted or failed: no half-written archive is left
        Path(partial).unlink(missing_ok=True)
        raise
    return manifest


def _write_tables(
    engine: Engine, archive: zipfile.ZipFile, secret_key: str, progress: Progress | None
) -> Manifest:
    entries: list[TableEntry] = []
    with _snapshot(engine) as connection:
        revision = schema_revision_of(connection)
        if revision is None:
            raise BackupError("the database has no schema: there is nothing to back up")
        for table in _tables(connection):
            entry = _write_table(connection, table, archive)
            entries.append(entry)
            if progress is not None:
                progress(entry.name, entry.rows)
    return Manifest(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        maillon_version=_maillon_version(),
        schema_revision=revision,
        created=datetime.now(UTC),
        source_database=engine.dialect.name,
        secret_key_check=secret_key_check(secret_key),
        tables=entries,
    )


def _write_table(connection: Connection, table: Table, archive: zipfile.ZipFile) -> TableEntry:
    name = f"tables/{table.name}.jsonl"
    columns = [column.name for column in table.columns]
    times = [isinstance(column.type, DateTime) for column in table.columns]
    digest = hashlib.sha256()
    rows = 0
    statement = select(*table.columns).order_by(*table.primary_key.columns)
    result = connection.execution_options(yield_per=BATCH_ROWS).execute(statement)
    with archive.open(name, "w", force_zip64=True) as member:
        for batch in result.partitions():
            lines = []
            for row in batch:
                values = {
                    key: _time_out(value) if is_time and value is not None else value
                    for key, is_time, value in zip(columns, times, row, strict=True)
                }
                lines.append(_line(values, table.name))
            chunk = "".join(lines).encode()
            digest.update(chunk)
            member.write(chunk)
            rows += len(batch)
    return TableEntry(
        name=table.name, file=name, columns=columns, rows=rows, sha256=digest.hexdigest()
    )


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _line(values: dict[str, Any], table: str) -> str:
    try:
        return _ENCODER.encode(values) + "\n"
    except TypeError as error:
        raise BackupError(f"a row of {table} cannot be written: {error}") from None


def _time_out(value: datetime) -> str:
    """ISO 8601 in UTC; naive values are UTC already (SQLite keeps no offset)."""
    if value.tzinfo is None:
        return value.isoformat() + "+00:00"
    return value.astimezone(UTC).isoformat()


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection that sees one consistent state of the database while reading."""
    if engine.dialect.name == "postgresql":
        snapshot = engine.connect().execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        with snapshot as connection, connection.begin():
            yield connection
        return
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # pysqlite opens transactions only to write: open one so every read that
            # follows sees the same WAL snapshot. Rolled back when the connection closes.
            connection.exec_driver_sql("BEGIN")
        yield connection


def _maillon_version() -> str:
    try:
        return version("maillon")
    except PackageNotFoundError:
        return "unknown"


# --- reading an archive ------------------------------------------------------------------


def read_manifest(path: Path) -> Manifest:
    """The archive's manifest, after checking every table file against it."""
    with _open_archive(path) as archive:
        manifest = _manifest(archive)
        for entry in manifest.tables:
            rows = sum(1 for _ in _lines(archive, entry))
            if rows != entry.rows:
                raise BackupError(f"{entry.file} has {rows} rows, the manifest says {entry.rows}")
    return manifest


@contextmanager
def _open_archive(path: Path) -> Iterator[zipfile.ZipFile]:
    try:
        with zipfile.ZipFile(path) as archive:
            yield archive
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise BackupError(f"{path} is damaged (truncated or corrupted?): {error}") from None
    except OSError as error:
        raise BackupError(f"cannot read {path}: {error}") from None


def _manifest(archive: zipfile.ZipFile) -> Manifest:
    try:
        data = archive.read(MANIFEST)
    except KeyError:
        raise BackupError(f"not a Maillon backup: no {MANIFEST} in the archive") from None
    try:
        manifest = Manifest.model_validate_json(data)
    except ValidationError as error:
        raise BackupError(f"not a Maillon backup: {MANIFEST} is invalid ({error})") from None
    if manifest.format != FORMAT or manifest.format_version != FORMAT_VERSION:
        raise BackupError(
            f"unsupported archive format {manifest.format} {manifest.format_version} "
            f"(this version reads {FORMAT} {FORMAT_VERSION})"
        )
    return manifest


def _lines(archive: zipfile.ZipFile, entry: TableEntry) -> Iterator[bytes]:
    """The table file's lines, checked against the manifest's checksum at the end."""
    digest = hashlib.sha256()
    try:
        member: IO[bytes] = archive.open(entry.file)
    except KeyError:
        raise BackupError(f"the archive lacks {entry.file}") from None
    with member:
        for line in member:
            digest.update(line)
            yield line
    if digest.hexdigest() != entry.sha256:
        raise BackupError(f"{entry.file} does not match its checksum: the archive is damaged")


# --- restore -----------------------------------------------------------------------------


def restore_backup(
    engine: Engine, path: Path, *, force: bool = False, progress: Progress | None = None
) -> Restored:
    """Restore the archive into this database, in one transaction.

    Refuses a database with rows unless ``force`` (they are replaced). A database with
    no schema is created at the archive's revision; after the restore, a database at an
    older revision than the code's is migrated.
    """
    manifest = read_manifest(path)
    wanted = manifest.schema_revision
    _check_revision_known(engine, wanted)
    current = schema_revision(engine)
    if current is not None and current != wanted:
        raise BackupError(
            f"the archive is at schema revision {wanted} and the database at {current}: "
            "restore into a new database with no schema (restore creates it) or one at "
            f"revision {wanted}"
        )
    occupied = occupied_tables(engine) if current is not None else []
    if occupied and not force:
        raise NotEmpty(occupied)
    if current is None:
        migrate(engine, wanted)
    counts = _restore(engine, path, manifest, replace=bool(occupied), progress=progress)
    migrated_from = None
    if wanted != head_revision(engine):
        migrate(engine)
        migrated_from = wanted
    return Restored(manifest, counts, migrated_from, replaced=bool(occupied))


def _check_revision_known(engine: Engine, revision: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(engine))
    try:
        found = script.get_revision(revision)
    except AlembicError:
        found = None
    if found is None:
        raise BackupError(
            f"the archive is at schema revision {revision}, unknown to this version of "
            f"Maillon ({_maillon_version()}): restore it with the version that made it, "
            "or a newer one"
        )


def _restore(
    engine: Engine, path: Path, manifest: Manifest, *, replace: bool, progress: Progress | None
) -> dict[str, int]:
    counts: dict[str, int] = {}
    with _open_archive(path) as archive, engine.begin() as connection:
        tables = {table.name: table for table in _tables(connection)}
        for entry in manifest.tables:
            _check_columns(entry, tables.get(entry.name))
        if replace:
            _wipe(connection, list(tables.values()))
        entries = {entry.name: entry for entry in manifest.tables}
        for name, table in tables.items():  # the database's dependency order
            if name in entries:
                counts[name] = _restore_table(connection, archive, entries[name], table)
                if progress is not None:
                    progress(name, counts[name])
        if engine.dialect.name == "postgresql":
            _reset_sequences(connection, list(tables.values()))
    return counts


def _check_columns(entry: TableEntry, table: Table | None) -> None:
    if table is None:
        raise BackupError(f"the archive has a table {entry.name} the database does not have")
    unknown = set(entry.columns) - set(table.columns.keys())
    if unknown:
        raise BackupError(
            f"the archive's {entry.name} has columns the database lacks: {sorted(unknown)}"
        )


def _restore_table(
    connection: Connection, archive: zipfile.ZipFile, entry: TableEntry, table: Table
) -> int:
    times = {column.name for column in table.columns if isinstance(column.type, DateTime)}
    naive = connection.dialect.name == "sqlite"  # SQLite keeps UTC times without offset
    insert = table.insert()
    batch: list[dict[str, Any]] = []
    rows = 0
    for number, line in enumerate(_lines(archive, entry), start=1):
        try:
            values: dict[str, Any] = json.loads(line)
            for key in times & values.keys():
                values[key] = _time_in(values[key], naive)
        except (ValueError, TypeError) as error:
            raise BackupError(f"{entry.file}, line {number}: {error}") from None
        batch.append(values)
        if len(batch) == BATCH_ROWS:
            connection.execute(insert, batch)
            rows += len(batch)
            batch = []
    if batch:
        connection.execute(insert, batch)
        rows += len(batch)
    return rows


def _time_in(value: str | None, naive: bool) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.replace(tzinfo=None) if naive else moment


def _wipe(connection: Connection, tables: list[Table]) -> None:
    if connection.dialect.name == "postgresql":
        quote = connection.dialect.identifier_preparer.quote
        connection.execute(text(f"TRUNCATE {', '.join(quote(t.name) for t in tables)}"))
        return
    for table in reversed(tables):
        connection.execute(table.delete())


def _reset_sequences(connection: Connection, tables: list[Table]) -> None:
    """Make PostgreSQL's next ``activity.seq``, ``job.id``… follow the restored rows."""
    quote = connection.dialect.identifier_preparer.quote
    for table in tables:
        columns = list(table.primary_key.columns)
        if len(columns) != 1 or not isinstance(columns[0].type, Integer):
            continue
        column = columns[0]
        sequence = connection.scalar(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": quote(table.name), "column": column.name},
        )
        if sequence is None:
            continue
        highest = connection.scalar(select(func.max(column))) or 0
        connection.execute(
            text("SELECT setval(:sequence, :next, false)"),
            {"sequence": sequence, "next": highest + 1},
        )


# --- the database ------------------------------------------------------------------------


def _tables(connection: Connection) -> list[Table]:
    """The node's tables as the database has them, in dependency order."""
    metadata = MetaData()
    metadata.reflect(bind=connection)
    return [table for table in metadata.sorted_tables if table.name not in SKIPPED_TABLES]


def schema_revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def occupied_tables(engine: Engine) -> list[str]:
    """The node's tables that have at least one row."""
    with engine.connect() as connection:
        return [
            table.name
            for table in _tables(connection)
            if connection.scalar(select(literal(1)).select_from(table).limit(1)) is not None
        ]
