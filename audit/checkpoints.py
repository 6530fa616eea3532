"""Checkpoints of the journal kept outside the database: one sealed JSON line per head or purge point.

The file lives in VIGIE_AUDIT_CHECKPOINT_DIR, one per database (``checkpoints-<base>.jsonl``). Lines are
only ever added: each one carries the seal of the line before it (``prev``) and its own seal (``mac``,
HMAC-SHA256 under VIGIE_AUDIT_KEY), so a line cannot be forged, altered, removed from the middle or
moved. Each append rewrites the file through a temporary copy renamed over it (readers see the old
file or the new one, never half a line), under an exclusive lock.
"""

import fcntl
import json
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from audit.seal import key_id, same, seal

DOMAIN = "vigie-audit-checkpoint-v1"
VERSION = 1


class CheckpointError(Exception):
    """The checkpoint file cannot be extended safely (unreadable last line)."""


@dataclass
class Ledger:
    """The checkpoint file as read: its sealed lines (with their line number) and what is wrong with it."""

    path: Path
    exists: bool
    entries: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def heads(self) -> list[dict]:
        return [e for e in self.entries if e["kind"] == "head" and e.get("last_id") is not None]

    @property
    def purges(self) -> list[dict]:
        return [e for e in self.entries if e["kind"] == "purge"]


def checkpoint_path(database_name: str | None = None) -> Path:
    """A database's checkpoint file (this connection's by default): several databases (demo, tests, bench,
    a restored backup) may share the directory."""
    name = Path(str(database_name or connection.settings_dict["NAME"])).name
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "default"
    return Path(settings.VIGIE_AUDIT_CHECKPOINT_DIR) / f"checkpoints-{base}.jsonl"


def read(path: Path | None = None) -> Ledger:
    """Every line checked: readable, sealed under the current key, chained to the line before it."""
    path = path or checkpoint_path()
    if not path.exists():
        return Ledger(path=path, exists=False)
    ledger = Ledger(path=path, exists=True)
    current_key = key_id()
    previous = ""
    foreign = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        where = f"{path.name}, ligne {number}"
        try:
            entry = json.loads(line)
            body = {k: v for k, v in entry.items() if k != "mac"}
            mac, prev, kind = entry["mac"], entry["prev"], entry["kind"]
        except (ValueError, KeyError, TypeError, AttributeError):
            ledger.problems.append(f"point de contrôle illisible ({where}).")
            previous = ""
            continue
        if entry.get("key") != current_key:
            foreign.append(number)
        elif not same(seal(DOMAIN, body), str(mac)):
            ledger.problems.append(f"point de contrôle falsifié ({where}) : son sceau ne correspond pas à son contenu.")
        elif prev != previous:
            ledger.problems.append(
                f"points de contrôle manquants ou déplacés avant la {where} : elle ne suit pas la ligne précédente."
            )
        elif kind in ("head", "purge"):
            ledger.entries.append({**entry, "line": number})
        else:
            ledger.problems.append(f"point de contrôle de type inconnu ({where}).")
        previous = mac
    if foreign:
        ledger.problems.insert(
            0,
            f"{len(foreign)} point(s) de contrôle scellé(s) par une autre clé que VIGIE_AUDIT_KEY ({path.name}, "
            f"ligne {foreign[0]}{' et suivantes' if len(foreign) > 1 else ''}) : la clé a changé, ou ils sont forgés.",
        )
    return ledger


def append(record: dict, path: Path | None = None) -> dict:
    """Seal `record` as the next line of the file and write it atomically; return the sealed entry."""
    path = path or checkpoint_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with exclusive(path):
        existing = path.read_bytes() if path.exists() else b""
        entry = {
            "v": VERSION,
            **record,
            "at": timezone.now().astimezone(UTC).isoformat(),
            "key": key_id(),
            "prev": _last_mac(path, existing),
        }
        entry["mac"] = seal(DOMAIN, entry)
        _replace(path, existing + (json.dumps(entry, ensure_ascii=False) + "\n").encode())
    return entry


def _last_mac(path: Path, content: bytes) -> str:
    if not content:
        return ""
    if not content.endswith(b"\n"):
        raise CheckpointError(f"{path} ne se termine pas par une ligne complète : fichier tronqué ou modifié.")
    try:
        return str(json.loads(content.rstrip(b"\n").rsplit(b"\n", 1)[-1])["mac"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path} : dernière ligne illisible, fichier modifié.") from exc


@contextmanager
def exclusive(path: Path):
    """One writer at a time (beat, verify_audit, purge_audit), across processes."""
    lock = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
    finally:
        os.close(lock)  # releases the lock


def _replace(path: Path, content: bytes) -> None:
    """Write a full copy next to the file, flush it to disk, rename it over the file, flush the directory."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
