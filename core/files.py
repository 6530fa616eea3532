"""Private, encrypted file storage and content-based type checks for uploads."""

import hashlib
import uuid

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from core.crypto import decrypt_bytes, encrypt_bytes
from core.exceptions import PayloadTooLarge, UnsupportedFileType

ACCEPTED_MIME_PREFIXES = ("audio/", "video/")
ACCEPTED_MIME_TYPES = {"application/pdf", "image/jpeg", "image/png"}


def max_upload_label() -> str:
    return f"{settings.VIGIE_MAX_UPLOAD_BYTES // (1024 * 1024)} Mo"


def check_upload_size(size: int) -> None:
    if size > settings.VIGIE_MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"Fichier trop volumineux : {max_upload_label()} au maximum.")


def sniff_content_type(head: bytes) -> str:
    """The MIME type read from the file's own bytes (the name and the declared type are ignored)."""
    kind = filetype.guess(head)
    mime = kind.mime if kind else ""
    if mime in ACCEPTED_MIME_TYPES or mime.startswith(ACCEPTED_MIME_PREFIXES):
        return mime
    raise UnsupportedFileType("Type de fichier non accepté : PDF, JPEG, PNG, audio ou vidéo uniquement.")


def store_private(data: bytes, *, folder: str) -> tuple[str, str]:
    """Encrypt and store `data`; return (storage name, SHA-256 of the plaintext)."""
    digest = hashlib.sha256(data).hexdigest()
    name = default_storage.save(f"{folder}/{uuid.uuid4().hex}", ContentFile(encrypt_bytes(data)))
    return name, digest


def read_private(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return decrypt_bytes(handle.read())


def delete_private(name: str) -> None:
    default_storage.delete(name)
