"""factory-boy factories that build through the services, as users would: phones, and dossiers moved along.

Users and organisations are named by their key in the demo world (`demo.world.USERS`, `demo.world.ORGANISATIONS`),
which the `world` fixture loads. Each dossier's fictitious content is drawn from its own seed (a sequence that
the fixtures reset for every test, so a test sees the same dossiers whatever ran before it).
"""

import contextlib
import random

import factory
import time_machine

from accounts.models import Organisation, Role, User
from cidff import services as cidff_services
from cidff.models import Evaluation
from demo.world import ORGANISATIONS, USERS, demo_referral_payload
from parquet import services as parquet_services
from parquet.models import Attribution, Decision, Device
from referrals import services as referral_services
from referrals.models import Referral
from tests import clock
from tests.evaluations import STATE_STEPS as EVALUATION_STEPS
from tests.evaluations import all_answers, complete, eligible

TEST_PASSWORD = "Mot-de-passe-de-test-2026"  # every user of the test world (see the `world` fixture)

# The states a dossier can be brought to, and the steps that bring it there.
STATE_STEPS = {
    "draft": [],
    "submitted": ["submit"],
    "received": ["submit", "acknowledge"],
    "evaluation": ["submit", "acknowledge", "assign"],
    "withdrawn": ["submit", "withdraw"],
    "closed": ["submit", "acknowledge", "close"],
}


def user(key: str) -> User:
    return User.objects.get(email=USERS[key][0])


def organisation(key: str) -> Organisation:
    return Organisation.objects.get(name=ORGANISATIONS[key][0])


def coordinator_of(cidff_id) -> User:
    return User.objects.filter(role=Role.CIDFF_COORDINATOR, organisation_id=cidff_id).order_by("id").first()


class DeviceFactory(factory.django.DjangoModelFactory):
    """A phone entered in a CIDFF's stock by the steering committee (`by`), with its history."""

    class Meta:
        model = Device

    serial = factory.Sequence(lambda n: f"IMEI35{n:010d}")
    phone_number = factory.Sequence(lambda n: f"07 00 00 {n // 100 % 100:02d} {n % 100:02d}")
    organisation = factory.LazyFunction(lambda: organisation("cidff92sud"))
    by = "supervisor"

    @classmethod
    def _create(cls, model_class, *, by, organisation, **fields):
        return parquet_services.device_create(user=user(by), organisation_id=organisation.pk, **fields)


class ReferralFactory(factory.Factory):
    """A dossier filed by `referrer` to `cidff` and moved to `state`; other keywords override its content."""

    class Meta:
        model = Referral

    state = "draft"
    referrer = "referrer_ccas"
    cidff = "cidff92sud"
    evaluator = "eval1_sud"
    seed = factory.Sequence(lambda n: n)

    @classmethod
    def _create(cls, model_class, *, state, referrer, cidff, evaluator, seed, **overrides):
        organisations = {key: organisation(key) for key in ("cidff92sud", "cidff92nord", cidff)}
        data = demo_referral_payload(random.Random(seed), organisations)
        data["cidff"] = organisations[cidff]
        data.update(overrides)
        author = user(referrer)
        referral = referral_services.referral_create(user=author, data=data)
        coordinator = coordinator_of(referral.cidff_id)
        for step in STATE_STEPS[state]:
            if step == "submit":
                referral_services.referral_submit(user=author, referral_id=referral.pk)
            elif step == "withdraw":
                referral_services.referral_withdraw(user=author, referral_id=referral.pk)
            elif step == "acknowledge":
                referral_services.referral_acknowledge(user=coordinator, referral_id=referral.pk)
            elif step == "assign":
                referral_services.referral_assign(
                    user=coordinator, referral_id=referral.pk, evaluator_id=user(evaluator).pk
                )
            elif step == "close":
                referral_services.referral_close(user=coordinator, referral_id=referral.pk, reason="unreachable")
        referral.refresh_from_db()
        return referral


class EvaluationFactory(factory.Factory):
    """The initial evaluation of a dossier in evaluation at CIDFF 92 Sud, by eval1, brought to `state`.

    `yes`/`unknown`: the answered items; `eligibility`: overrides of the eligible situation.
    """

    class Meta:
        model = Evaluation

    state = "draft"
    yes = ("V03", "V04")
    unknown = ()
    eligibility = None
    referral = factory.SubFactory(ReferralFactory, state="evaluation")

    @classmethod
    def _create(cls, model_class, *, referral, state, yes, unknown, eligibility):
        evaluator, coordinator = user("eval1_sud"), user("coord_sud")
        evaluation = cidff_services.evaluation_create(user=evaluator, referral_id=referral.pk)
        data = complete(answers=all_answers(yes, unknown), eligibility=eligible(**(eligibility or {})))
        cidff_services.evaluation_update(user=evaluator, evaluation_id=evaluation.pk, data=data)
        for step in EVALUATION_STEPS[state]:
            actor = evaluator if step == "finalize" else coordinator
            getattr(cidff_services, f"evaluation_{step}")(user=actor, evaluation_id=evaluation.pk)
        evaluation.refresh_from_db()
        return evaluation


class DecisionFactory(factory.Factory):
    """The Nanterre prosecutor's decision on a freshly sent report; other keywords are the decision's fields."""

    class Meta:
        model = Decision

    outcome = "granted"
    prosecutor = "prosecutor_nanterre"
    evaluation = factory.SubFactory(EvaluationFactory, state="sent")

    @classmethod
    def _create(cls, model_class, *, evaluation, outcome, prosecutor, **fields):
        if outcome in ("refused", "info_requested") and "reasoning" not in fields:
            fields["reasoning"] = "Motivation du parquet."
        return parquet_services.decision_create(
            user=user(prosecutor), evaluation_id=evaluation.pk, outcome=outcome, **fields
        )


class AttributionFactory(factory.Factory):
    """A phone handed over on `handover_date` (default today) after a grant: a running measure.

    The whole story, from the referral to the handover, happens on the handover day (a decision cannot be
    backdated): at 11:00 in Paris for a past day, at the session's now for today. A future day is refused.
    """

    class Meta:
        model = Attribution

    handover_date = None
    device = factory.SubFactory(DeviceFactory)
    decision = factory.SubFactory(DecisionFactory, outcome="granted")
    coordinator = "coord_sud"
    consent = True
    geolocation_consent = True

    @classmethod
    def _generate(cls, strategy, params):
        day = params.get("handover_date") or clock.today()
        moment = clock.on_day(day)
        story = contextlib.nullcontext() if day == clock.today() else time_machine.travel(moment, tick=True)
        with story:
            return super()._generate(strategy, {**params, "handover_date": day})

    @classmethod
    def _create(cls, model_class, *, decision, device, coordinator, **fields):
        return parquet_services.attribution_handover(
            user=user(coordinator), decision_id=decision.pk, device_id=device.pk, **fields
        )


def renewal_report(referral) -> Evaluation:
    """The CIDFF re-evaluates before the term and sends a renewal report (eligibility as of today)."""
    evaluator, coordinator = user("eval1_sud"), user("coord_sud")
    parquet_services.measure_start_reevaluation(user=coordinator, referral_id=referral.pk)
    evaluation = cidff_services.evaluation_create(user=evaluator, referral_id=referral.pk, kind="renewal")
    data = complete(answers=all_answers(yes=("V04", "S04")))
    cidff_services.evaluation_update(user=evaluator, evaluation_id=evaluation.pk, data=data)
    cidff_services.evaluation_finalize(user=evaluator, evaluation_id=evaluation.pk)
    cidff_services.evaluation_validate(user=coordinator, evaluation_id=evaluation.pk)
    cidff_services.evaluation_send(user=coordinator, evaluation_id=evaluation.pk)
    return evaluation
