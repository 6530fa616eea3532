"""Encrypted backups: one file holding a consistent PostgreSQL dump, the private files and the journal's checkpoints.

File format (``.vbk``, version 1), written and read as a stream::

    header = b"VIGIEBK1" + salt (16 random bytes) + key check (8 bytes)
    chunk  = length of the ciphertext (4 bytes, big-endian) + AES-256-GCM ciphertext (16-byte tag included)

The chunks' key is HKDF-SHA256(VIGIE_BACKUP_KEY, salt): a fresh key per file, so each chunk's nonce is simply
its index (12 bytes, big-endian) and never repeats. Each chunk authenticates, as associated data, the header,
its index (8 bytes) and a final flag (1 byte): chunks cannot be altered, reordered, swapped between files, cut
off or followed by anything, and a file without its final chunk is truncated. The key check (also from HKDF)
only tells a wrong key from an altered file. A plaintext chunk holds 1 MiB at most.

The plaintext is a tar stream, in this order::

    vigie-backup.json        format, date (UTC), name of the source database
    database/part-00000…     pg_dump --format=custom, cut into parts of 8 MiB (one after the other: the dump)
    audit/checkpoints.jsonl  the journal's checkpoint file of that database, if it has one
    storage/<name>…          every file of the private storage, as stored (already encrypted by the field keys)

Consistency: the database snapshot (pg_export_snapshot, then pg_dump --snapshot) and the copy of the checkpoint
file are taken together under the checkpoint file's lock, so every checkpoint refers to a row of the dump and a
purge point is never missing for rows the dump lacks. The private files are listed after the snapshot: a file
added since is a harmless extra, a file deleted meanwhile is skipped.
"""

import base64
import binascii
import contextlib
import io
import json
import os
import re
import secrets
import shutil
import struct
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import psycopg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from psycopg import sql

from audit.checkpoints import checkpoint_path, exclusive

MAGIC = b"VIGIEBK1"
SALT_BYTES = 16
CHECK_BYTES = 8
HEADER_BYTES = len(MAGIC) + SALT_BYTES + CHECK_BYTES
CHUNK_BYTES = 1024 * 1024
TAG_BYTES = 16
DUMP_PART_BYTES = 8 * 1024 * 1024
MANIFEST = "vigie-backup.json"
DUMP_PREFIX = "database/part-"
CHECKPOINTS = "audit/checkpoints.jsonl"
STORAGE_PREFIX = "storage/"
DATABASE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class BackupError(Exception):
    """The backup or the restore cannot go on; the message (in French) says why and names no person."""


# --- the key ---------------------------------------------------------------------------------------


def backup_key() -> bytes:
    """VIGIE_BACKUP_KEY, decoded: 32 bytes of its own, never one of the application's other keys."""
    value = (getattr(settings, "VIGIE_BACKUP_KEY", "") or "").strip()
    if not value:
        raise BackupError(
            "VIGIE_BACKUP_KEY manque : les sauvegardes sont chiffrées par une clé à part, à définir (et à garder "
            "hors des sauvegardes) avant toute sauvegarde ou restauration."
        )
    try:
        key = base64.urlsafe_b64decode(value.encode()) if re.fullmatch(r"[A-Za-z0-9_-]{43}=", value) else b""
    except (ValueError, binascii.Error):
        key = b""
    if len(key) != 32:
        raise BackupError("VIGIE_BACKUP_KEY est invalide : 32 octets en base64 urlsafe, comme Fernet.generate_key().")
    others = {*settings.VIGIE_FIELD_KEYS, settings.VIGIE_AUDIT_KEY, settings.VIGIE_INDEX_KEY, settings.SECRET_KEY}
    if value in others:
        raise BackupError(
            "VIGIE_BACKUP_KEY doit être une clé à part : ni une clé de VIGIE_FIELD_KEYS, ni VIGIE_AUDIT_KEY, "
            "ni VIGIE_INDEX_KEY, ni SECRET_KEY."
        )
    return key


def _derive(key: bytes, salt: bytes) -> tuple[AESGCM, bytes]:
    material = HKDF(algorithm=hashes.SHA256(), length=32 + CHECK_BYTES, salt=salt, info=b"vigie-backup-v1").derive(key)
    return AESGCM(material[:32]), material[32:]


def _associated(header: bytes, index: int, final: bool) -> bytes:
    return header + struct.pack(">QB", index, final)


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


class _SealedWriter:
    """A write-only stream that encrypts what it is given, chunk by chunk, into `out`."""

    def __init__(self, out, key: bytes):
        salt = secrets.token_bytes(SALT_BYTES)
        self._aead, check = _derive(key, salt)
        self._header = MAGIC + salt + check
        self._out = out
        self._out.write(self._header)
        self._buffer = bytearray()
        self._index = 0

    def write(self, data) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK_BYTES:  # the last bytes always wait for finish(): it seals them final
            self._seal(bytes(self._buffer[:CHUNK_BYTES]), final=False)
            del self._buffer[:CHUNK_BYTES]
        return len(data)

    def finish(self) -> None:
        self._seal(bytes(self._buffer), final=True)
        self._buffer.clear()

    def _seal(self, plain: bytes, *, final: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._index), plain, _associated(self._header, self._index, final))
        self._out.write(struct.pack(">I", len(sealed)) + sealed)
        self._index += 1


class _SealedReader:
    """A read-only stream of the plaintext of a backup file; any alteration raises BackupError."""

    def __init__(self, handle, key: bytes):
        self._handle = handle
        self._header = handle.read(HEADER_BYTES)
        if len(self._header) != HEADER_BYTES or not self._header.startswith(MAGIC):
            raise BackupError("Ce fichier n'est pas une sauvegarde Vigie (format inconnu).")
        salt, check = self._header[len(MAGIC) : -CHECK_BYTES], self._header[-CHECK_BYTES:]
        self._aead, expected = _derive(key, salt)
        if not secrets.compare_digest(check, expected):
            raise BackupError(
                "Cette sauvegarde a été chiffrée avec une autre clé que VIGIE_BACKUP_KEY (ou son en-tête est altéré) : "
                "rien n'a été restauré."
            )
        self._buffer = b""
        self._index = 0
        self._done = False

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buffer) < size):
            self._buffer += self._open_next()
        if size < 0:
            size = len(self._buffer)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def _open_next(self) -> bytes:
        prefix = self._handle.read(4)
        if len(prefix) < 4:
            raise BackupError("Sauvegarde tronquée : sa fin manque. Rien n'a été restauré.")
        (length,) = struct.unpack(">I", prefix)
        sealed = self._handle.read(length) if length <= CHUNK_BYTES + TAG_BYTES else b""
        if len(sealed) != length or length < TAG_BYTES:
            raise BackupError("Sauvegarde tronquée ou altérée : un bloc est incomplet. Rien n'a été restauré.")
        for final in (False, True):
            try:
                plain = self._aead.decrypt(_nonce(self._index), sealed, _associated(self._header, self._index, final))
            except InvalidTag:
                continue
            self._index += 1
            if final:
                self._done = True
                if self._handle.read(1):
                    raise BackupError("Sauvegarde altérée : des données suivent sa fin. Rien n'a été restauré.")
            return plain
        raise BackupError(
            f"Sauvegarde altérée : le bloc n° {self._index} ne correspond pas à son sceau. Rien n'a été restauré."
        )


# --- the pieces of a backup --------------------------------------------------------------------------


def _postgresql() -> dict:
    if connection.vendor != "postgresql":
        raise BackupError(
            "Sauvegarde et restauration exigent PostgreSQL (DATABASE_URL=postgres://…) : la base embarquée "
            "SQLite de démonstration ne se sauvegarde pas ainsi."
        )
    return connection.settings_dict


def _connect_kwargs(database: str) -> dict:
    db = _postgresql()
    kwargs = {"dbname": database, "host": db.get("HOST"), "port": db.get("PORT"), "user": db.get("USER")}
    kwargs |= {"password": db.get("PASSWORD"), "sslmode": (db.get("OPTIONS") or {}).get("sslmode")}
    return {key: str(value) for key, value in kwargs.items() if value}


def _libpq_env(database: str) -> dict:
    """pg_dump's and pg_restore's connection, through libpq's variables: no password on a command line."""
    names = {"dbname": "PGDATABASE", "host": "PGHOST", "port": "PGPORT", "user": "PGUSER"}
    names |= {"password": "PGPASSWORD", "sslmode": "PGSSLMODE"}
    return {**os.environ, **{names[key]: value for key, value in _connect_kwargs(database).items()}}


def _first_error(stderr) -> str:
    """The first error line of a PostgreSQL tool (its DETAIL lines, which may quote values, are left out)."""
    stderr.seek(0)
    lines = stderr.read().decode(errors="replace").splitlines()
    errors = [line for line in lines if "error" in line.lower() or "erreur" in line.lower()]
    return (errors or lines or ["(aucun message)"])[0][:300]


@contextlib.contextmanager
def _snapshot(database: str):
    """An exported database snapshot and the checkpoint file as it was at that instant (None if none)."""
    checkpoint = checkpoint_path(database)
    with psycopg.connect(**_connect_kwargs(database)) as holder:
        holder.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        holder.read_only = True
        # no checkpoint is written while the file's own lock is held (audit.checkpoints)
        with exclusive(checkpoint) if checkpoint.parent.is_dir() else contextlib.nullcontext():
            snapshot = holder.execute("SELECT pg_export_snapshot()").fetchone()[0]
            checkpoints = checkpoint.read_bytes() if checkpoint.exists() else None
        yield snapshot, checkpoints  # the snapshot lives as long as this transaction stays open


def _storage_names(path: str = ""):
    """Every private file, through the Storage API (any backend); hidden names are temporary copies."""
    try:
        folders, files = default_storage.listdir(path)
    except FileNotFoundError:
        return
    for name in sorted(files):
        if not name.startswith("."):
            yield f"{path}/{name}" if path else name
    for folder in sorted(folders):
        yield from _storage_names(f"{path}/{folder}" if path else folder)


def _member(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(datetime.now(UTC).timestamp())
    return info


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    archive.addfile(_member(name, len(data)), io.BytesIO(data))


@dataclass
class BackupSummary:
    path: Path
    size: int
    dump_bytes: int
    files: int
    skipped: int
    checkpoints: bool

    def line(self) -> str:
        skipped = f", {self.skipped} fichier(s) effacé(s) pendant la sauvegarde" if self.skipped else ""
        return (
            f"Sauvegarde chiffrée écrite : {self.path} ({size_label(self.size)} ; base {size_label(self.dump_bytes)}, "
            f"{self.files} fichier(s) privé(s){skipped}, points de contrôle du journal : "
            f"{'oui' if self.checkpoints else 'aucun'})."
        )


def size_label(size: int) -> str:
    """1536 → "1,5 Ko"."""
    value, unit = float(size), "octets"
    for bigger in ("Ko", "Mo", "Go"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{size} octets" if unit == "octets" else f"{value:.1f} {unit}".replace(".", ",")


def default_backup_path() -> Path:
    return Path(settings.VIGIE_BACKUP_DIR) / f"vigie-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.vbk"


def backup_create(*, output: Path | None = None) -> BackupSummary:
    """Write one encrypted backup file (mode 0600); a failed backup leaves no file behind."""
    key = backup_key()
    database = str(_postgresql()["NAME"])
    path = Path(output) if output else default_backup_path()
    if path.exists():
        raise BackupError(f"{path} existe déjà : choisissez un autre nom.")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    handle = os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
    try:
        with handle:
            writer = _SealedWriter(handle, key)
            with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as archive:
                summary = _pack(archive, database=database)
            writer.finish()
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    summary.path, summary.size = path, path.stat().st_size
    return summary


def _pack(archive: tarfile.TarFile, *, database: str) -> BackupSummary:
    summary = BackupSummary(path=Path(), size=0, dump_bytes=0, files=0, skipped=0, checkpoints=False)
    manifest = {"format": 1, "created_at": datetime.now(UTC).isoformat(), "database": database}
    _add_bytes(archive, MANIFEST, json.dumps(manifest).encode())
    with _snapshot(database) as (snapshot, checkpoints), tempfile.TemporaryFile() as stderr:
        dump = subprocess.Popen(
            ["pg_dump", "--format=custom", f"--snapshot={snapshot}", "--no-password"],
            env=_libpq_env(database),
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        try:
            part = 0
            while data := dump.stdout.read(DUMP_PART_BYTES):
                _add_bytes(archive, f"{DUMP_PREFIX}{part:05d}", data)
                summary.dump_bytes += len(data)
                part += 1
            if dump.wait() != 0 or not summary.dump_bytes:
                raise BackupError(f"pg_dump a échoué (code {dump.returncode}) : {_first_error(stderr)}")
        finally:
            if dump.poll() is None:
                dump.kill()
            dump.wait()
            dump.stdout.close()
    if checkpoints is not None:
        _add_bytes(archive, CHECKPOINTS, checkpoints)
        summary.checkpoints = True
    for name in _storage_names():
        try:
            source = default_storage.open(name, "rb")
        except FileNotFoundError:
            summary.skipped += 1
            continue
        with source:
            size = source.seek(0, io.SEEK_END)
            source.seek(0)
            archive.addfile(_member(STORAGE_PREFIX + name, size), source)
        summary.files += 1
    return summary


# --- restoring ---------------------------------------------------------------------------------------


@dataclass
class Inventory:
    """What a backup file holds, read and authenticated from end to end."""

    source_database: str
    created_at: str
    dump_bytes: int
    files: int
    checkpoints: bool


def _storage_name(member: tarfile.TarInfo) -> str:
    name = member.name.removeprefix(STORAGE_PREFIX)
    parts = PurePosixPath(name).parts
    if not member.isreg() or not parts or name.startswith("/") or ".." in parts:
        raise BackupError("Sauvegarde invalide : un nom de fichier sort du stockage privé. Rien n'a été restauré.")
    return name


@contextlib.contextmanager
def _archive(path: Path):
    """(manifest, iterator of (member, data stream)) of a backup file, decrypted and authenticated as it is read."""
    key = backup_key()
    if not Path(path).is_file():
        raise BackupError(f"Sauvegarde introuvable : {path}.")
    with open(path, "rb") as handle:
        try:
            with tarfile.open(fileobj=_SealedReader(handle, key), mode="r|") as archive:
                first = archive.next()
                if first is None or first.name != MANIFEST:
                    raise BackupError("Sauvegarde invalide : son inventaire manque. Rien n'a été restauré.")
                manifest = json.loads(archive.extractfile(first).read())
                if manifest.get("format") != 1:
                    raise BackupError("Format de sauvegarde inconnu : rien n'a été restauré.")
                yield manifest, ((member, archive.extractfile(member)) for member in iter(archive.next, None))
        except (tarfile.TarError, ValueError, KeyError) as exc:
            raise BackupError("Sauvegarde illisible (archive invalide) : rien n'a été restauré.") from exc


def backup_inspect(path: Path) -> Inventory:
    """Decrypt and check the whole file without writing anything: a wrong key or one altered byte is refused."""
    with _archive(path) as (manifest, members):
        inventory = Inventory(str(manifest["database"]), str(manifest["created_at"]), 0, 0, False)
        for member, data in members:
            _tally(inventory, member)
            if data is not None:
                while data.read(CHUNK_BYTES):  # every byte authenticated, none kept
                    pass
    if not inventory.dump_bytes:
        raise BackupError("Sauvegarde invalide : la base de données y manque. Rien n'a été restauré.")
    return inventory


def _tally(inventory: Inventory, member: tarfile.TarInfo) -> None:
    if member.name.startswith(DUMP_PREFIX):
        inventory.dump_bytes += member.size
    elif member.name == CHECKPOINTS:
        inventory.checkpoints = True
    elif member.name.startswith(STORAGE_PREFIX):
        _storage_name(member)
        inventory.files += 1
    else:
        raise BackupError(f"Sauvegarde invalide : élément inattendu ({member.name}). Rien n'a été restauré.")


@dataclass
class RestoreSummary:
    inventory: Inventory
    database: str
    storage_dir: Path
    checkpoint_file: Path | None


def _database_state(database: str) -> str:
    """'missing', 'empty' or 'used' (any table, view or sequence outside PostgreSQL's own schemas)."""
    with psycopg.connect(**_connect_kwargs("postgres")) as admin:
        if not admin.execute("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = %s)", [database]).fetchone()[0]:
            return "missing"
    with psycopg.connect(**_connect_kwargs(database)) as target:
        used = target.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' "
            "AND n.nspname NOT LIKE 'pg_temp%')"
        ).fetchone()[0]
    return "used" if used else "empty"


def _maintenance(statement: sql.Composable) -> None:
    with psycopg.connect(**_connect_kwargs("postgres"), autocommit=True) as admin:
        admin.execute(statement)


def backup_restore(*, path: Path, database: str, storage_dir: Path, checkpoint_dir: Path) -> RestoreSummary:
    """Restore a backup into a new database, an empty storage folder and the checkpoint folder.

    The whole file is authenticated before anything is written; if the restore fails midway, what it created
    (the database, the files) is removed.
    """
    if not DATABASE_NAME.fullmatch(database):
        raise BackupError("Nom de base invalide : lettres, chiffres et _ uniquement (63 caractères au plus).")
    _postgresql()
    storage_dir, checkpoint_dir = Path(storage_dir), Path(checkpoint_dir)
    if storage_dir.exists() and any(p.is_file() for p in storage_dir.rglob("*")):
        raise BackupError(f"Le dossier de stockage {storage_dir} n'est pas vide : indiquez un dossier vide.")
    checkpoint_file = checkpoint_dir / checkpoint_path(database).name
    if checkpoint_file.exists():
        raise BackupError(f"{checkpoint_file} existe déjà : la base {database} a déjà des points de contrôle.")
    state = _database_state(database)
    if state == "used":
        raise BackupError(f"La base {database} existe et n'est pas vide : restaurez dans une base neuve.")
    inventory = backup_inspect(path)
    if state == "missing":
        _maintenance(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(sql.Identifier(database)))
    written: list[Path] = []
    try:
        checkpoints = _unpack(path, database=database, storage_dir=storage_dir, written=written)
        if checkpoints is not None:
            _write_file(checkpoint_file.parent, checkpoint_file.name, io.BytesIO(checkpoints), written)
    except BaseException:
        for file in written:
            file.unlink(missing_ok=True)
        if state == "missing":
            _maintenance(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        raise
    return RestoreSummary(inventory, database, storage_dir, checkpoint_file if checkpoints is not None else None)


def _unpack(path: Path, *, database: str, storage_dir: Path, written: list[Path]) -> bytes | None:
    """Pipe the dump into pg_restore (one transaction), write the private files; return the checkpoint file."""
    checkpoints = None
    with tempfile.TemporaryFile() as stderr, _archive(path) as (_, members):
        restore = subprocess.Popen(
            ["pg_restore", "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction", "--no-password",
             "--dbname", database],
            env=_libpq_env(database),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )  # fmt: skip
        try:
            for member, data in members:
                if member.name.startswith(DUMP_PREFIX):
                    with contextlib.suppress(BrokenPipeError):  # pg_restore stopped: its error is reported below
                        shutil.copyfileobj(data, restore.stdin, CHUNK_BYTES)
                    continue
                with contextlib.suppress(BrokenPipeError):
                    restore.stdin.close()  # the dump is whole: pg_restore works while the files are written
                if member.name == CHECKPOINTS:
                    checkpoints = data.read()
                elif member.name.startswith(STORAGE_PREFIX):
                    _write_file(storage_dir, _storage_name(member), data, written)
            with contextlib.suppress(BrokenPipeError):
                restore.stdin.close()
            if restore.wait() != 0:
                raise BackupError(f"pg_restore a échoué (code {restore.returncode}) : {_first_error(stderr)}")
        finally:
            if restore.poll() is None:
                restore.kill()
                restore.wait()
    return checkpoints


def _write_file(root: Path, name: str, data, written: list[Path]) -> None:
    """A new file (never over an existing one), mode 0600, listed in `written` as soon as it exists."""
    target = root / name
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    written.append(target)
    with os.fdopen(descriptor, "wb") as handle:
        shutil.copyfileobj(data, handle, CHUNK_BYTES)
