"""Private, encrypted file storage and content-based type checks for uploads (PDFs: inert only)."""

import contextlib
import hashlib
import os
import stat
import tempfile
import uuid
from pathlib import Path

import filetype
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from core.crypto import decrypt_bytes, encrypt_bytes, is_current_token, rotate_token
from core.exceptions import Conflict, PayloadTooLarge, UnsupportedFileType
from core.pdf_inspect import check_pdf_inert

ACCEPTED_MIME_PREFIXES = ("audio/", "video/")
ACCEPTED_MIME_TYPES = {"application/pdf", "image/jpeg", "image/png"}


def max_upload_label() -> str:
    return f"{settings.VIGIE_MAX_UPLOAD_BYTES // (1024 * 1024)} Mo"


def check_upload_size(size: int) -> None:
    if size > settings.VIGIE_MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"Fichier trop volumineux : {max_upload_label()} au maximum.")


def sniff_content_type(data: bytes) -> str:
    """The MIME type read from the whole file's own bytes (the name and the declared type are ignored);
    a PDF must also be readable and inert (core.pdf_inspect)."""
    kind = filetype.guess(data[:8192])
    mime = kind.mime if kind else ""
    if not (mime in ACCEPTED_MIME_TYPES or mime.startswith(ACCEPTED_MIME_PREFIXES)):
        raise UnsupportedFileType("Type de fichier non accepté : PDF, JPEG, PNG, audio ou vidéo uniquement.")
    if mime == "application/pdf":
        check_pdf_inert(data)
    return mime


def store_private(data: bytes, *, folder: str, key: str = "") -> tuple[str, str]:
    """Encrypt and store `data`; return (storage name, SHA-256 of the plaintext).

    `key` names the file for a job that may run again (a worker killed after writing it, before its commit):
    the earlier attempt's file is replaced, never left beside the new one.
    """
    digest = hashlib.sha256(data).hexdigest()
    wanted = f"{folder}/{key or uuid.uuid4().hex}"
    if key and default_storage.exists(wanted):
        default_storage.delete(wanted)
    name = default_storage.save(wanted, ContentFile(encrypt_bytes(data)))
    return name, digest


def read_private(name: str) -> bytes:
    if not name:  # cleared by the retention purge (retention.services)
        raise Conflict("Ce document a été effacé : sa durée de conservation est écoulée.")
    with default_storage.open(name, "rb") as handle:
        return decrypt_bytes(handle.read())


def delete_private(name: str) -> None:
    default_storage.delete(name)


def rotate_private(name: str, *, dry_run: bool = False) -> bool:
    """Re-encrypt a stored file under the first key; False if it already was (a dry run writes nothing).

    A missing file raises FileNotFoundError, a file no key can read ImproperlyConfigured.
    """
    with default_storage.open(name, "rb") as handle:
        token = handle.read()
    if is_current_token(token):
        return False
    rotated = rotate_token(token)
    if not dry_run:
        _replace_private(name, rotated)
    return True


def _replace_private(name: str, data: bytes) -> None:
    """Replace the stored file so that it is always wholly old or wholly new.

    On disk: write beside it, sync, then rename over it. In a bucket: one upload under the same key (`_save`,
    past the storage's no-overwrite renaming), which S3 applies whole or not at all, with the same
    server-side encryption. No other storage is known to replace a file at once: refused.
    """
    from storages.backends.s3 import S3Storage  # boto3 is loaded only where a rotation runs

    if isinstance(default_storage, S3Storage):
        default_storage._save(name, ContentFile(data))
        return
    try:
        path = Path(default_storage.path(name))
    except NotImplementedError as exc:
        raise ImproperlyConfigured(
            "La rotation des fichiers exige un stockage privé sur disque local ou compatible S3."
        ) from exc
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".rotation")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
