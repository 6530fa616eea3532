"""Model fields whose content is encrypted at rest (see core.crypto)."""

from django.db import models

from core.crypto import decrypt_json, encrypt_json


class EncryptedJSONField(models.TextField):
    """Any JSON value, stored as one Fernet token; never searchable, never in plaintext."""

    description = "Donnée chiffrée (JSON)"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return self.get_default()
        return decrypt_json(value)

    def to_python(self, value):
        return value

    def get_prep_value(self, value):
        if value is None:
            return None
        return encrypt_json(value)

    def value_to_string(self, obj):
        return ""


class EncryptedTextField(EncryptedJSONField):
    """A free text (names, facts, comments), stored encrypted."""

    description = "Texte chiffré"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)


class PrivateFileNameField(models.CharField):
    """The name of an encrypted file in private storage (core.files); key rotation finds files by it."""

    description = "Nom d'un fichier du stockage privé"


def encrypted_field_names(model) -> list[str]:
    """The model's encrypted fields: a list's rows `defer()` them, so that no row decrypts what no list shows."""
    return [field.name for field in model._meta.concrete_fields if isinstance(field, EncryptedJSONField)]


def joined_encrypted_field_names(queryset) -> list[str]:
    """The encrypted fields of the rows `queryset` joins by `select_related()` ("referral__victim", …): `defer()`
    them where a page shows the rows' own fields, so that no joined dossier or report is decrypted for nothing."""
    names = []

    def walk(model, joined: dict, prefix: str) -> None:
        for name, deeper in joined.items():
            related = model._meta.get_field(name).related_model
            names.extend(f"{prefix}{name}__{field}" for field in encrypted_field_names(related))
            walk(related, deeper, f"{prefix}{name}__")

    if isinstance(queryset.query.select_related, dict):
        walk(queryset.model, queryset.query.select_related, "")
    return names
