"""The demo world of DESIGN.md: jurisdictions, organisations, users and dossiers in every state.

Used by `manage.py seed_demo` (idempotent) and by the test suite, so both speak of the same
CIDFF 92 Sud, the same Parquet de Nanterre and the same referrers.
"""

import datetime
import random
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from accounts.models import Jurisdiction, Organisation, OrganisationKind, Role, User
from accounts.second_factor import demo_enrol
from accounts.services import organisation_create, user_create

DEMO_PASSWORD = "Vigie-demo-2026!"

JURISDICTIONS = {"nanterre": ("TJ de Nanterre", ["92"]), "paris": ("TJ de Paris", ["75"])}

ORGANISATIONS = {
    "cidff92sud": ("CIDFF 92 Sud", OrganisationKind.CIDFF, "nanterre", "92"),
    "cidff92nord": ("CIDFF 92 Nord", OrganisationKind.CIDFF, "nanterre", "92"),
    "cidffparis": ("CIDFF de Paris", OrganisationKind.CIDFF, "paris", "75"),
    "parquet_nanterre": ("Parquet de Nanterre", OrganisationKind.PARQUET, "nanterre", "92"),
    "parquet_paris": ("Parquet de Paris", OrganisationKind.PARQUET, "paris", "75"),
    "ccas": ("CCAS de Boulogne-Billancourt", OrganisationKind.REFERRING_SERVICE, "nanterre", "92"),
    "commissariat": ("Commissariat de Boulogne-Billancourt", OrganisationKind.REFERRING_SERVICE, "nanterre", "92"),
    "hopital": ("Hôpital Ambroise-Paré", OrganisationKind.REFERRING_SERVICE, "nanterre", "92"),
    "operator": ("Plateforme de téléassistance", OrganisationKind.OPERATOR, "nanterre", "92"),
}

# key: (e-mail, role, organisation key, first name, last name)
USERS = {
    "referrer_ccas": ("referent.ccas@vigie.test", Role.REFERRER, "ccas", "Claire", "Martin"),
    "referrer_police": ("referent.commissariat@vigie.test", Role.REFERRER, "commissariat", "Karim", "Benali"),
    "referrer_hospital": ("referent.hopital@vigie.test", Role.REFERRER, "hopital", "Hélène", "Roux"),
    "coord_sud": ("coord.cidff92sud@vigie.test", Role.CIDFF_COORDINATOR, "cidff92sud", "Sophie", "Lefèvre"),
    "eval1_sud": ("eval1.cidff92sud@vigie.test", Role.EVALUATOR, "cidff92sud", "Amina", "Diallo"),
    "eval2_sud": ("eval2.cidff92sud@vigie.test", Role.EVALUATOR, "cidff92sud", "Julie", "Moreau"),
    "coord_nord": ("coord.cidff92nord@vigie.test", Role.CIDFF_COORDINATOR, "cidff92nord", "Nadia", "Girard"),
    "eval_nord": ("eval.cidff92nord@vigie.test", Role.EVALUATOR, "cidff92nord", "Léa", "Fontaine"),
    "coord_paris": ("coord.cidffparis@vigie.test", Role.CIDFF_COORDINATOR, "cidffparis", "Inès", "Marchand"),
    "prosecutor_nanterre": ("procureur.nanterre@vigie.test", Role.PROSECUTOR, "parquet_nanterre", "Paul", "Mercier"),
    "prosecutor_paris": ("procureur.paris@vigie.test", Role.PROSECUTOR, "parquet_paris", "Anne", "Durand"),
    "operator": ("operateur@vigie.test", Role.OPERATOR, "operator", "Marc", "Petit"),
    "supervisor": ("superviseur@vigie.test", Role.SUPERVISOR, None, "Claude", "Bernard"),
}


@dataclass
class DemoWorld:
    jurisdictions: dict[str, Jurisdiction] = field(default_factory=dict)
    organisations: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)


def seed_reference(*, password: str = DEMO_PASSWORD) -> DemoWorld:
    """Jurisdictions, organisations and users (created once, found afterwards)."""
    if not settings.VIGIE_DEMO:
        raise ImproperlyConfigured("Les données de démonstration sont interdites hors mode démo (VIGIE_DEMO).")
    world = DemoWorld()
    with transaction.atomic():
        for key, (name, departments) in JURISDICTIONS.items():
            world.jurisdictions[key], _ = Jurisdiction.objects.get_or_create(
                name=name, defaults={"departments": departments}
            )
        for key, (name, kind, jurisdiction, department) in ORGANISATIONS.items():
            world.organisations[key] = Organisation.objects.filter(name=name).first() or organisation_create(
                name=name, kind=kind, jurisdiction=world.jurisdictions[jurisdiction], department=department
            )
        for key, (email, role, organisation, first_name, last_name) in USERS.items():
            world.users[key] = User.objects.filter(email=email).first() or user_create(
                email=email,
                password=password,
                role=role,
                organisation=world.organisations.get(organisation),
                first_name=first_name,
                last_name=last_name,
            )
            demo_enrol(user=world.users[key])
    return world


FIRST_NAMES = ["Sarah", "Fatou", "Marie", "Nora", "Camille", "Leïla", "Émilie", "Yasmina", "Laura", "Aïcha"]
LAST_NAMES = ["Dupont", "Traoré", "Lambert", "Haddad", "Nguyen", "Morel", "Kaci", "Renaud", "Faure", "Blanc"]
AUTHOR_FIRST_NAMES = ["Julien", "Mehdi", "Thomas", "Sébastien", "Yanis", "Kevin", "Nicolas", "David"]
FACTS = [
    "Menaces de mort répétées par SMS depuis la séparation, dont une mise en scène avec une arme.",
    "Tentative d'étranglement lors de la remise des enfants ; plainte déposée le lendemain.",
    "Surveillance continue : il attend devant son travail et connaît sa nouvelle adresse.",
    "Violences physiques pendant la grossesse, confiscation des papiers, isolement de la famille.",
]


def demo_referral_payload(rng: random.Random, organisations: dict[str, Organisation]) -> dict:
    """A plausible, entirely fictitious dossier."""
    today = timezone.localdate()
    return {
        "cidff": organisations[rng.choice(["cidff92sud", "cidff92sud", "cidff92nord"])],
        "urgency": rng.choice(["normal", "normal", "urgent"]),
        "referrer_function": rng.choice(["travailleur_social", "police_gendarmerie", "medecin", "pmi"]),
        "victim": {
            "last_name": rng.choice(LAST_NAMES),
            "first_name": rng.choice(FIRST_NAMES),
            "birth_date": datetime.date(rng.randint(1975, 2002), rng.randint(1, 12), rng.randint(1, 28)),
            "phone": f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            "address": f"{rng.randint(1, 120)} rue de la République, 92100 Boulogne-Billancourt",
            "safe_contact": "Appeler sur le portable, ne pas laisser de message.",
            "safe_times": "En semaine entre 9 h et 12 h",
            "language": "français",
        },
        "author": {
            "last_name": rng.choice(LAST_NAMES),
            "first_name": rng.choice(AUTHOR_FIRST_NAMES),
            "relationship": rng.choice(["ex_conjoint", "ex_concubin", "ex_pacs", "conjoint"]),
            "custody_status": rng.choice(["free", "free", "detained", "on_the_run"]),
            "release_date": today + datetime.timedelta(days=rng.randint(20, 120)),
        },
        "children": [{"first_name": "Lina", "birth_date": datetime.date(2019, 5, 3), "common_child": True}],
        "cohabiting": False,
        "separation_date": today - datetime.timedelta(days=rng.randint(20, 300)),
        "facts": rng.choice(FACTS),
        "measures": [
            {
                "type": "ordonnance_protection",
                "authority": "JAF de Nanterre",
                "date": today - datetime.timedelta(days=10),
                "no_contact_ban": True,
                "expiry": today + datetime.timedelta(days=365),
            }
        ],
        "victim_informed": True,
    }


# How long ago (days) each kind of demo dossier was filed: the dashboard gets a year of history, and
# the final deadline scan finds late acknowledgements, reports awaiting decision, terms approaching.
AGE_DAYS = {
    "submitted": (1, 4),
    "received": (3, 9),
    "evaluation": (4, 12),
    "transferred": (5, 15),
    "report_sent": (5, 9),
    "info_requested": (10, 30),
    "reserved": (10, 30),
    "granted": (10, 20),
    "refused": (40, 330),
    "withdrawn": (40, 330),
    "closed": (40, 330),
    "active": (60, 175),
    "reevaluation": (150, 170),
    "withdrawn_measure": (90, 170),
    "returned": (100, 180),
}


def _demo_clock(rng: random.Random, target: str):
    """`at(step)` travels to the moment this dossier's step happened, with realistic delays (demo mode only)."""
    import time_machine
    from django.utils import timezone

    lo, hi = AGE_DAYS.get(target, AGE_DAYS["evaluation"] if target.startswith("evaluation") else (0, 0))
    now = timezone.now()
    start = now - datetime.timedelta(days=rng.uniform(lo, hi))
    acknowledged = start + datetime.timedelta(hours=rng.uniform(2, 30))
    evaluated = acknowledged + datetime.timedelta(days=rng.uniform(2.5, 4.5))
    decided = evaluated + datetime.timedelta(days=rng.uniform(0.5, 3))
    moments = {
        "submit": start,
        "acknowledge": acknowledged,
        "assign": acknowledged + datetime.timedelta(hours=4),
        "evaluation": evaluated,
        "decision": decided,
        "handover": decided + datetime.timedelta(days=rng.uniform(1, 4)),
        "end": now - datetime.timedelta(days=1),
    }

    def at(step: str):
        return time_machine.travel(min(moments[step], now - datetime.timedelta(minutes=1)), tick=True)

    return at


def seed_dossiers(world: DemoWorld, *, seed: int = 2026) -> int:
    """Dossiers spread over the states the workflow knows and over the past year, moved there by the real
    services at the moments they would have happened."""
    from referrals import services
    from referrals.models import Referral

    if Referral.objects.filter(referrer__in=world.users.values()).exists():
        return 0
    rng = random.Random(seed)
    users = world.users
    referrers = [users["referrer_ccas"], users["referrer_police"], users["referrer_hospital"]]
    coordinators = {o.pk: u for u in users.values() if u.role == Role.CIDFF_COORDINATOR for o in [u.organisation]}
    evaluators = {}
    for user in users.values():
        if user.role == Role.EVALUATOR:
            evaluators.setdefault(user.organisation_id, []).append(user)
    # target state of each dossier, in order: enough of each for every screen to show something
    plan = ["draft"] * 4 + ["submitted"] * 6 + ["received"] * 5 + ["evaluation"] * 2
    plan += ["evaluation_draft"] * 2 + ["evaluation_finalized"] * 2 + ["evaluation_validated"]
    plan += ["report_sent"] * 3 + ["transferred"] * 2 + ["withdrawn"] * 2 + ["closed"] * 3
    plan += ["refused", "info_requested", "reserved", "granted", "active", "active", "active", "reevaluation"]
    plan += ["withdrawn_measure", "returned"]
    for target in plan:
        referrer = rng.choice(referrers)
        at = _demo_clock(rng, target)
        with at("submit"):
            referral = services.referral_create(user=referrer, data=demo_referral_payload(rng, world.organisations))
            if target == "draft":
                continue
            services.referral_submit(user=referrer, referral_id=referral.pk)
        if target == "submitted":
            continue
        if target == "withdrawn":
            with at("acknowledge"):
                services.referral_withdraw(
                    user=referrer, referral_id=referral.pk, comment="Orientation vers un autre dispositif."
                )
            continue
        coordinator = coordinators[referral.cidff_id]
        with at("acknowledge"):
            services.referral_acknowledge(user=coordinator, referral_id=referral.pk)
        if target == "received":
            continue
        if target == "transferred":
            other = world.organisations[
                "cidff92nord" if referral.cidff_id == world.organisations["cidff92sud"].pk else "cidff92sud"
            ]
            with at("assign"):
                services.referral_transfer(
                    user=coordinator,
                    referral_id=referral.pk,
                    cidff_id=other.pk,
                    reason="Domicile de la victime dans l'autre secteur.",
                )
            continue
        if target == "closed":
            with at("assign"):
                services.referral_close(user=coordinator, referral_id=referral.pk, reason="unreachable", comment="")
            continue
        evaluator = rng.choice(evaluators[referral.cidff_id])
        with at("assign"):
            services.referral_assign(user=coordinator, referral_id=referral.pk, evaluator_id=evaluator.pk)
        if target == "evaluation":
            continue
        with at("evaluation"):
            evaluation = seed_evaluation(
                rng,
                referral=referral,
                evaluator=evaluator,
                coordinator=coordinator,
                target=target if target in EVALUATION_STEPS else "report_sent",
            )
        if target not in EVALUATION_STEPS:
            seed_measure(world, referral=referral, evaluation=evaluation, coordinator=coordinator, target=target, at=at)
    return len(plan)


def seed_devices(world: DemoWorld, *, count: int = 50) -> None:
    """The phone stock: most at CIDFF 92 Sud, some at 92 Nord and Paris (created once)."""
    from parquet.models import Device
    from parquet.services import device_create

    if Device.objects.exists():
        return
    holders = ["cidff92sud"] * 25 + ["cidff92nord"] * 15 + ["cidffparis"] * 10
    for n in range(count):
        device_create(
            user=world.users["supervisor"],
            serial=f"35{n + 1:013d}",
            phone_number=f"07 81 00 {n // 100:02d} {n % 100:02d}",
            organisation_id=world.organisations[holders[n % len(holders)]].pk,
        )


MEASURE_OUTCOMES = {
    "refused": "refused",
    "info_requested": "info_requested",
    "reserved": "reserved",
}


def seed_measure(world: DemoWorld, *, referral, evaluation, coordinator, target: str, at) -> None:
    """Decide on the sent report, hand a phone over, report an alert, end and return, as needed."""
    from django.utils import timezone

    from parquet import services

    prosecutor = world.users["prosecutor_nanterre"]
    with at("decision"):
        if target in MEASURE_OUTCOMES:
            services.decision_create(
                user=prosecutor,
                evaluation_id=evaluation.pk,
                outcome=MEASURE_OUTCOMES[target],
                reasoning="Décision motivée au vu du rapport d'évaluation.",
                reserved_until=timezone.localdate() + datetime.timedelta(days=45) if target == "reserved" else None,
            )
            return
        decision = services.decision_create(
            user=prosecutor, evaluation_id=evaluation.pk, outcome="granted", reasoning="Danger grave et imminent."
        )
    if target == "granted":
        return
    with at("handover"):
        _seed_handover(world, referral=referral, decision=decision, coordinator=coordinator)
    if target == "reevaluation":
        with at("end"):
            services.measure_start_reevaluation(user=coordinator, referral_id=referral.pk)
    if target in ("withdrawn_measure", "returned"):
        with at("end"):
            attribution = referral.attributions.get()
            services.attribution_withdraw(
                user=prosecutor, attribution_id=attribution.pk, reason="author_incarcerated", comment="Auteur écroué."
            )
            if target == "returned":
                services.attribution_return(
                    user=coordinator,
                    attribution_id=attribution.pk,
                    returned_on=timezone.localdate(),
                    condition="good",
                )


def _seed_handover(world: DemoWorld, *, referral, decision, coordinator) -> None:
    from django.utils import timezone

    from parquet import services
    from parquet.models import Device

    today = timezone.localdate()
    device = Device.objects.filter(organisation_id=referral.cidff_id, status="in_stock").order_by("serial").first()
    attribution = services.attribution_handover(
        user=coordinator,
        decision_id=decision.pk,
        device_id=device.pk,
        handover_date=today,
        consent=True,
        geolocation_consent=True,
    )
    services.alert_create(
        user=world.users["operator"],
        attribution_id=attribution.pk,
        occurred_at=timezone.now() - datetime.timedelta(hours=3),
        kind="real_alert",
        police_intervention=True,
        notes="Auteur aperçu devant le domicile ; patrouille sur place en 6 minutes.",
    )
    services.followup_create(
        user=coordinator,
        referral_id=referral.pk,
        date=today,
        channel="meeting",
        notes="Remise du téléphone et explications.",
    )


EVALUATION_STEPS = {
    "evaluation_draft": [],
    "evaluation_finalized": ["finalize"],
    "evaluation_validated": ["finalize", "validate"],
    "report_sent": ["finalize", "validate", "send"],
}


def seed_evaluation(rng: random.Random, *, referral, evaluator, coordinator, target: str) -> None:
    """An evaluation filled as an evaluator would, then moved along by the real services."""
    from cidff import services
    from cidff.instruments import definition_items

    evaluation = services.evaluation_create(user=evaluator, referral_id=referral.pk)
    items = list(definition_items(evaluation.instrument.definition))
    partial = target == "evaluation_draft"
    answered = items[: len(items) // 2] if partial else items
    yes = set(rng.sample(items, rng.randint(3, 12)))
    answers = {
        code: {"answer": "yes" if code in yes else rng.choice(["no", "no", "unknown"]), "comment": ""}
        for code in answered
    }
    today = timezone.localdate()
    services.evaluation_update(
        user=evaluator,
        evaluation_id=evaluation.pk,
        data={
            "answers": answers,
            "interview": {"dates": [(today - datetime.timedelta(days=2)).isoformat()], "place": "Locaux du CIDFF"},
            "eligibility": {
                "victim_category": "partner_violence",
                "cohabiting": False,
                "consent": True,
                "legal_basis": "contact_ban",
                "ban_framework": "ordonnance_protection",
                "ban_authority": "JAF du tribunal judiciaire de Nanterre",
                "ban_date": (today - datetime.timedelta(days=10)).isoformat(),
                "ban_expiry": (today + datetime.timedelta(days=365)).isoformat(),
            },
            "narrative": ""
            if partial
            else (
                "Entretien d'une heure au CIDFF. La victime décrit une escalade depuis la séparation, "
                "des menaces de mort répétées et une surveillance constante. Elle craint pour sa vie."
            ),
            "recommendation": [] if partial else ["phone", "partner"],
        },
    )
    for step in EVALUATION_STEPS[target]:
        actor = evaluator if step == "finalize" else coordinator
        getattr(services, f"evaluation_{step}")(user=actor, evaluation_id=evaluation.pk)
    return evaluation


def seed_purge_example(world: DemoWorld, *, seed: int = 95) -> bool:
    """A dossier closed 27 months ago, past the convention's retention: `manage.py purge` anonymises it and the
    census of its quarter does not move (docs/retention.md). Created once."""
    import time_machine
    from dateutil.relativedelta import relativedelta

    from referrals import services
    from referrals.models import Referral

    referrer = world.users["referrer_ccas"]
    closed_long_ago = timezone.now() - relativedelta(months=27)
    if Referral.objects.filter(referrer=referrer, submitted_at__lt=closed_long_ago + relativedelta(days=1)).exists():
        return False
    payload = demo_referral_payload(random.Random(seed), world.organisations)
    payload["cidff"] = world.organisations["cidff92sud"]
    coordinator = User.objects.filter(role=Role.CIDFF_COORDINATOR, organisation=payload["cidff"]).order_by("id").first()
    with time_machine.travel(closed_long_ago, tick=True):
        referral = services.referral_create(user=referrer, data=payload)
        services.referral_submit(user=referrer, referral_id=referral.pk)
        services.referral_acknowledge(user=coordinator, referral_id=referral.pk)
        services.referral_close(
            user=coordinator, referral_id=referral.pk, reason="unreachable", comment="Victime injoignable."
        )
    return True


def seed_duplicate_example(world: DemoWorld) -> bool:
    """A second signalement, from another referrer, for a woman already followed at CIDFF 92 Sud, her name spelt
    differently: its coordination sees "Doublons possibles" on both dossiers. False if it is already there."""
    import unicodedata

    from referrals import services
    from referrals.models import Referral
    from referrals.workflow import Status

    sud = world.organisations["cidff92sud"]
    known = (
        Referral.objects.filter(cidff=sud, status=Status.ACTIVE, referrer__in=world.users.values())
        .exclude(victim_identity_index="")
        .order_by("id")
        .first()
    )
    if known is None or Referral.objects.filter(victim_identity_index=known.victim_identity_index).count() > 1:
        return False
    victim = known.victim
    plain_first = unicodedata.normalize("NFKD", victim["first_name"]).encode("ascii", "ignore").decode()
    referrer = next(u for key, u in world.users.items() if key.startswith("referrer_") and u.pk != known.referrer_id)
    payload = demo_referral_payload(random.Random(known.pk), world.organisations)
    payload.update({"cidff": sud, "urgency": "urgent", "referrer_function": "medecin"})
    payload["victim"] = {
        **payload["victim"],
        "last_name": victim["last_name"].upper(),
        "first_name": plain_first.lower(),
        "birth_date": datetime.date.fromisoformat(victim["birth_date"]),
    }
    referral = services.referral_create(user=referrer, data=payload)
    services.referral_submit(user=referrer, referral_id=referral.pk)
    return True
