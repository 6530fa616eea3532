"""Re-encrypt every encrypted field and every private file under the first key of VIGIE_FIELD_KEYS."""

from collections import Counter
from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.db.models.functions import Cast

from audit.services import audit_record
from core.crypto import is_current_token, rotate_token
from core.fields import EncryptedJSONField, PrivateFileNameField
from core.files import rotate_private

ACTION = "keys.rotate"


@dataclass
class Target:
    """A concrete model and its columns to rotate: encrypted values and private file names."""

    model: type[models.Model]
    encrypted: list[models.Field]
    files: list[models.Field]

    @property
    def label(self) -> str:
        return self.model._meta.label


@dataclass
class Tally:
    """What was (or, in a dry run, would be) re-encrypted, per (model label, field name)."""

    values: Counter = field(default_factory=Counter)
    files: Counter = field(default_factory=Counter)
    missing: Counter = field(default_factory=Counter)


def rotation_targets() -> list[Target]:
    """Every model of the registry with an encrypted field or a private file name, found by field class."""
    targets = []
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
        if model._meta.proxy:
            continue
        columns = model._meta.local_concrete_fields
        encrypted = [f for f in columns if isinstance(f, EncryptedJSONField)]
        files = [f for f in columns if isinstance(f, PrivateFileNameField)]
        if encrypted or files:
            targets.append(Target(model, encrypted, files))
    return targets


def _locked_batch(target: Target, after, size: int, *, lock: bool) -> list[tuple]:
    """The next `size` rows after pk `after`: (pk, raw tokens…, file names…), raw as stored in the column."""
    queryset = target.model._base_manager.order_by("pk")
    if after is not None:
        queryset = queryset.filter(pk__gt=after)
    if lock:
        queryset = queryset.select_for_update()
    raw = {f"rotation_{f.attname}": Cast(f.attname, models.TextField()) for f in target.encrypted}
    names = [f.attname for f in target.files]
    return list(queryset.annotate(**raw).values_list("pk", *raw, *names)[:size])


def rotate_batch(target: Target, rows: list[tuple], *, dry_run: bool, tally: Tally) -> Counter:
    """Re-encrypt one batch (inside its transaction); return the value counts, to add once committed.

    Files are replaced as they go (each one atomically): they count at once, committed or not.
    """
    width = len(target.encrypted)
    changes = {f: {} for f in target.encrypted}
    for pk, *columns in rows:
        for column, token in zip(target.encrypted, columns[:width], strict=True):
            if token and not is_current_token(token.encode()):
                changes[column][pk] = _rotate_value(target, column, pk, token)
        for column, name in zip(target.files, columns[width:], strict=True):
            if name:
                _rotate_file(target, column, pk, name, dry_run=dry_run, tally=tally)
    if not dry_run:
        for column, tokens in changes.items():
            if tokens:
                whens = [models.When(pk=pk, then=models.Value(token)) for pk, token in tokens.items()]
                target.model._base_manager.filter(pk__in=tokens).update(
                    **{
                        column.attname: models.Case(
                            *whens, default=models.F(column.attname), output_field=models.TextField()
                        )
                    }
                )
    return Counter({(target.label, column.name): len(tokens) for column, tokens in changes.items() if tokens})


def _rotate_value(target: Target, column, pk, token: str) -> str:
    try:
        return rotate_token(token.encode()).decode()
    except ImproperlyConfigured as exc:
        raise CommandError(
            f"Valeur illisible : {target.label}.{column.name}, ligne n° {pk} — aucune clé de VIGIE_FIELD_KEYS "
            "ne la déchiffre. Rien n'a été modifié pour cette ligne."
        ) from exc


def _rotate_file(target: Target, column, pk, name: str, *, dry_run: bool, tally: Tally) -> None:
    key = (target.label, column.name)
    try:
        if rotate_private(name, dry_run=dry_run):
            tally.files[key] += 1
    except FileNotFoundError:
        tally.missing[key] += 1
    except ImproperlyConfigured as exc:
        raise CommandError(f"Fichier illisible : {target.label}.{column.name}, ligne n° {pk} — {exc}") from exc


def rotate_target(target: Target, *, batch_size: int, dry_run: bool, tally: Tally) -> None:
    """Walk the table by primary key, one transaction per batch with its rows locked."""
    after = None
    while True:
        with transaction.atomic():
            rows = _locked_batch(target, after, batch_size, lock=not dry_run)
            if not rows:
                return
            done = rotate_batch(target, rows, dry_run=dry_run, tally=tally)
        tally.values.update(done)
        after = rows[-1][0]


def _journal(tally: Tally, *, finished: bool) -> None:
    """One row per field with something re-encrypted, then the totals; labels and counts only."""
    for counter, unit in ((tally.values, "valeur(s)"), (tally.files, "fichier(s)")):
        for (label, name), count in sorted(counter.items()):
            audit_record(
                actor=None,
                action=ACTION,
                object_type=apps.get_model(label)._meta.model_name,
                detail=f"{label}.{name} : {count} {unit}",
            )
    audit_record(actor=None, action=f"{ACTION}.{'done' if finished else 'interrupted'}", detail=_totals(tally))


def _totals(tally: Tally, done: str = "re-chiffré(s)") -> str:
    text = f"{tally.values.total()} valeur(s) et {tally.files.total()} fichier(s) {done}"
    if missing := tally.missing.total():
        text += f" ; {missing} fichier(s) absent(s) du stockage"
    return text


class Command(BaseCommand):
    help = (
        "Re-chiffre sous la première clé de VIGIE_FIELD_KEYS tous les champs chiffrés et tous les fichiers "
        "du stockage privé. Reprenable : ce qui l'est déjà est laissé tel quel."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Compte ce qui serait re-chiffré, sans rien écrire.")
        parser.add_argument("--batch-size", type=int, default=500, help="Lignes par transaction (500 par défaut).")

    def handle(self, *args, dry_run=False, batch_size=500, **options):
        if batch_size < 1:
            raise CommandError("--batch-size doit valoir au moins 1.")
        tally = Tally()
        try:
            for target in rotation_targets():
                rotate_target(target, batch_size=batch_size, dry_run=dry_run, tally=tally)
        except BaseException:
            if not dry_run:
                self.stderr.write(f"Rotation interrompue : {_totals(tally)} ; relancez la commande pour terminer.")
                self._journal_interruption(tally)
            raise
        if not dry_run:
            _journal(tally, finished=True)
        self._summary(tally, dry_run=dry_run)

    def _journal_interruption(self, tally: Tally) -> None:
        try:
            _journal(tally, finished=False)
        except Exception as exc:  # the original error matters more; say only that the journal missed it
            self.stderr.write(f"L'interruption n'a pas pu être journalisée : {exc.__class__.__name__}.")

    def _summary(self, tally: Tally, *, dry_run: bool) -> None:
        for counter, unit in ((tally.values, "valeur(s)"), (tally.files, "fichier(s)")):
            for (label, name), count in sorted(counter.items()):
                self.stdout.write(f"  {label}.{name} : {count} {unit}")
        for (label, name), count in sorted(tally.missing.items()):
            self.stdout.write(self.style.WARNING(f"  {label}.{name} : {count} fichier(s) absent(s) du stockage"))
        if dry_run:
            self.stdout.write(f"Simulation, rien n'a été écrit : {_totals(tally, 'à re-chiffrer')}.")
        elif not tally.values and not tally.files:
            self.stdout.write(self.style.SUCCESS("Rien à re-chiffrer : tout est déjà sous la première clé."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Rotation terminée : {_totals(tally)}."))
