"""`create_supervisor`: the first supervisor, made from the command line, chooses her own password through a
single-use link and enrols her second factor at first login; a bad request creates nothing."""

import io
import os
import re
import subprocess
import sys

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from accounts.models import Role, User
from accounts.roles import role_group_name
from audit.models import AccessEvent
from tests.conftest import ROOT

STRONG = "Un secret bien à moi 2027 !"


def _create(*args) -> str:
    out = io.StringIO()
    call_command("create_supervisor", *args, stdout=out)
    return out.getvalue()


def test_the_first_supervisor_chooses_her_password_then_enrols_her_second_factor(db, settings):
    settings.VIGIE_BASE_URL = "https://vigie.exemple.fr/"
    output = _create("  Chef.Pilotage@Vigie.TEST ", "--first-name", "Anne", "--last-name", "Martin")

    person = User.objects.get()
    assert person.email == "chef.pilotage@vigie.test"
    assert (person.first_name, person.last_name) == ("Anne", "Martin")
    assert person.role == Role.SUPERVISOR and person.is_staff and not person.is_superuser
    assert person.organisation is None and person.is_active
    assert not person.has_usable_password()
    assert list(person.groups.values_list("name", flat=True)) == [role_group_name(Role.SUPERVISOR)]
    events = AccessEvent.objects.filter(object_type="user", object_id=str(person.pk))
    assert sorted(events.values_list("action", flat=True)) == ["user.create_supervisor", "user.invite"]
    assert not events.exclude(actor=None).exists()
    assert mail.outbox == []  # the link is printed, not e-mailed
    assert "Anne" not in output and "Martin" not in output

    [link] = re.findall(r"https://vigie\.exemple\.fr/mot-de-passe/nouveau/\S+/", output)
    path = link.removeprefix("https://vigie.exemple.fr")
    client = Client()
    form = client.get(path, follow=True)
    assert form.status_code == 200 and form.context["validlink"] is True
    done = client.post(form.redirect_chain[-1][0], {"new_password1": STRONG, "new_password2": STRONG})
    assert done.status_code == 302
    person.refresh_from_db()
    assert person.check_password(STRONG)
    assert client.get(path, follow=True).context["validlink"] is False  # single use

    login = client.post("/connexion/", {"username": "CHEF.pilotage@vigie.test", "password": STRONG}, follow=True)
    assert login.request["PATH_INFO"] == "/connexion/application/"  # enrolment comes next


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["pas-une-adresse"], "Saisissez une adresse e-mail valide."),
        (["chef@"], "Saisissez une adresse e-mail valide."),
        ([""], "Ce champ ne peut pas être vide."),
        (["chef@vigie.test", "--last-name", "x" * 81], "au plus 80 caractères"),
    ],
)
def test_bad_input_creates_nothing(db, arguments, message):
    with pytest.raises(CommandError, match=message) as refusal:
        _create(*arguments)
    assert str(refusal.value).startswith("Compte non créé : ")
    assert not User.objects.exists() and not AccessEvent.objects.exists()


def test_an_existing_account_is_refused_whatever_its_case_and_stays_as_it_was(users):
    existing = users["coord_sud"]
    events = AccessEvent.objects.count()
    with pytest.raises(CommandError, match="Un compte existe déjà avec cette adresse e-mail."):
        _create(existing.email.upper())
    unchanged = User.objects.get(pk=existing.pk)
    assert unchanged.role == Role.CIDFF_COORDINATOR and not unchanged.is_staff
    assert unchanged.password == existing.password
    assert AccessEvent.objects.count() == events


@pytest.mark.django_db(transaction=True)
def test_the_command_line_answers_in_french_with_a_failing_exit_code():
    """What an operator sees: the message on stderr, exit code 1, and no account."""
    db = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    run = subprocess.run(
        [sys.executable, "manage.py", "create_supervisor", "pas-une-adresse"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert "Compte non créé : Saisissez une adresse e-mail valide." in run.stderr
    assert run.stdout == "" and not User.objects.exists()
