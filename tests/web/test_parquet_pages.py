"""The parquet and phone stage through its web pages: inbox, decision, stock, handover, measure, operator."""

import datetime
from html import unescape
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from cidff import services as cidff_services
from core.exceptions import Conflict
from core.files import store_private
from parquet import services
from parquet.models import Alert, Attribution, Decision, DecisionDocumentKind, Device, DeviceEvent, FollowUpContact
from parquet.services import measure_end_date
from referrals.models import Referral
from tests.clock import days_ago
from tests.evaluations import NARRATIVE, all_answers, complete
from tests.factories import renewal_report
from tests.web.helpers import assert_csp_safe
from tests.web.helpers import text as raw_text

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def text(response) -> str:
    """The page with its entities decoded (the checks read French, not &#x27;)."""
    return unescape(raw_text(response))


def decision_url(referral_id):
    return reverse("decision-page", args=[referral_id])


def decide(client, evaluation, outcome, *, sign=True, **fields):
    """The decision form's last step: `sign` confirms the recap (the "Signer la décision" button)."""
    data = {"evaluation": evaluation.pk, "outcome": outcome, **fields}
    return client.post(decision_url(evaluation.referral_id), {**data, "signer": "1"} if sign else data)


def handover_data(device, **overrides):
    data = {
        "device": device.pk,
        "handover_date": timezone.localdate().isoformat(),
        "consent": "on",
        "geolocation_consent": "on",
        "agreement": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def measure(client, referral_id, action, data=None):
    posted = {f"{action}-{key}": value for key, value in (data or {}).items()}
    return client.post(reverse("measure-action", args=[referral_id, action]), posted)


def make_ready(decision, kind=DecisionDocumentKind.DECISION):
    """The PDF as the worker would leave it (the tests do not run WeasyPrint here)."""
    name, digest = store_private(PDF, folder="decisions")
    decision.documents.filter(kind=kind).update(status="ready", storage_name=name, sha256=digest)


# --- the prosecutor: inbox and decision ----------------------------------------------------------------


def test_the_inbox_lists_the_sent_report_for_nanterre_not_for_paris(api, users, make_evaluation):
    evaluation = make_evaluation("sent", urgency="urgent")
    referral = evaluation.referral
    response = api(users["prosecutor_nanterre"]).get(reverse("decision-inbox"))
    html = text(response)
    assert response.status_code == 200
    assert referral.reference in html
    assert "Danger grave" in html  # V03 + V04: two major factors
    assert "Urgent" in html and "Évaluation initiale" in html
    assert decision_url(referral.pk) in html
    assert '<a class="site-nav__link" href="/rapports-a-decider/" aria-current="page">Rapports à décider</a>' in html
    assert "Dossiers</a>" in html
    assert_csp_safe(raw_text(response))

    html = text(api(users["prosecutor_paris"]).get(reverse("decision-inbox")))
    assert referral.reference not in html and "Aucun rapport n'attend votre décision." in html
    assert api(users["coord_sud"]).get(reverse("decision-inbox")).status_code == 403


def test_a_reevaluation_waits_in_the_inbox_only_while_its_renewal_report_is_undecided(api, users, active):
    attribution = active(handover_date=days_ago(170))
    referral = attribution.referral
    client = api(users["prosecutor_nanterre"])
    inbox = reverse("decision-inbox") + "?file=a-decider"
    services.measure_start_reevaluation(user=users["coord_sud"], referral_id=referral.pk)
    assert referral.reference not in text(client.get(inbox))  # the CIDFF is re-evaluating
    evaluator, coordinator = users["eval1_sud"], users["coord_sud"]
    renewal = cidff_services.evaluation_create(user=evaluator, referral_id=referral.pk, kind="renewal")
    data = complete(answers=all_answers(yes=("V04",)))
    cidff_services.evaluation_update(user=evaluator, evaluation_id=renewal.pk, data=data)
    cidff_services.evaluation_finalize(user=evaluator, evaluation_id=renewal.pk)
    cidff_services.evaluation_validate(user=coordinator, evaluation_id=renewal.pk)
    cidff_services.evaluation_send(user=coordinator, evaluation_id=renewal.pk)
    html = text(client.get(inbox))
    assert referral.reference in html and "Réévaluation avant échéance" in html

    services.decision_create(user=users["prosecutor_nanterre"], evaluation_id=renewal.pk, outcome="renewed")
    assert referral.reference not in text(client.get(inbox))
    services.measure_start_reevaluation(user=coordinator, referral_id=referral.pk)  # the next term
    assert referral.reference not in text(client.get(inbox))  # its last report is decided already


def test_the_decision_page_summarises_the_report_and_offers_the_initial_outcomes(api, users, make_evaluation):
    evaluation = make_evaluation("sent")
    response = api(users["prosecutor_nanterre"]).get(decision_url(evaluation.referral_id))
    html = text(response)
    assert response.status_code == 200
    assert "Niveau calculé par la grille" in html and "Danger grave" in html
    assert "Facteurs majeurs présents" in html
    assert "Préconisations du CIDFF" in html and "Attribuer un téléphone grave danger" in html
    assert str(evaluation.evaluator) in html and str(users["coord_sud"]) in html  # evaluator and second reader
    assert reverse("evaluation-report", args=[evaluation.pk]) in html or "en cours de génération" in html
    for outcome in ("granted", "refused", "info_requested", "reserved"):
        assert f'value="{outcome}"' in html
    assert 'value="renewed"' not in html and 'value="ended"' not in html
    assert_csp_safe(raw_text(response))
    # the first step only chooses the outcome; the second shows that outcome's fields only
    assert 'method="get"' in html and 'name="reasoning"' not in html and 'name="duration_months"' not in html
    client = api(users["prosecutor_nanterre"])
    html = text(client.get(decision_url(evaluation.referral_id), {"outcome": "granted"}))
    assert '<option value="6" selected>6 mois</option>' in html and "(OPPI)" in html
    assert 'name="reasoning"' in html and "Question posée au CIDFF" not in html and 'name="reserved_until"' not in html
    html = text(client.get(decision_url(evaluation.referral_id), {"outcome": "info_requested"}))
    assert (
        "Question posée au CIDFF" in html and 'name="duration_months"' not in html and 'id="id_reasoning"' not in html
    )
    html = text(client.get(decision_url(evaluation.referral_id), {"outcome": "reserved"}))
    release = evaluation.referral.author_release_date
    assert f'name="reserved_until" value="{release.isoformat()}"' in html and 'name="duration_months"' not in html
    html = text(client.get(decision_url(evaluation.referral_id), {"outcome": "refused"}))
    assert 'id="id_reasoning"' in html and "Obligatoire pour cette décision." in html
    assert 'name="duration_months"' not in html and 'name="reserved_until"' not in html
    response = client.get(decision_url(evaluation.referral_id), {"outcome": "renewed"})
    assert "Cette décision n'est pas possible" in text(response) and 'method="get"' in text(response)


def test_nothing_is_signed_before_the_recap_is_confirmed(api, users, make_evaluation):
    evaluation = make_evaluation("sent")
    client = api(users["prosecutor_nanterre"])
    response = decide(client, evaluation, "granted", sign=False, duration_months="4", reasoning="Danger grave.")
    html = text(response)
    assert response.status_code == 200
    assert not Decision.objects.exists()
    assert Referral.objects.get(pk=evaluation.referral_id).status == "report_sent"
    assert "Vérifiez avant de signer" in html and "Attribution" in html and "4 mois" in html
    assert "Danger grave." in html
    assert 'name="signer"' in html and 'name="modifier"' in html
    assert 'type="hidden" name="duration_months" value="4"' in html
    assert_csp_safe(raw_text(response))

    # "Modifier" goes back to the outcome's fields, as typed; still nothing signed
    response = decide(
        client, evaluation, "granted", sign=False, duration_months="4", reasoning="Danger grave.", modifier="1"
    )
    html = text(response)
    assert response.status_code == 200 and '<option value="4" selected>4 mois</option>' in html
    assert "Vérifiez avant de signer" not in html and not Decision.objects.exists()

    # a bad input never reaches the recap
    response = decide(client, evaluation, "refused", sign=False, reasoning="")
    assert response.status_code == 400 and "La motivation est obligatoire pour cette décision." in text(response)
    assert "Vérifiez avant de signer" not in text(response) and not Decision.objects.exists()

    response = decide(client, evaluation, "granted", duration_months="4", reasoning="Danger grave.")
    assert response.status_code == 302
    assert Decision.objects.get().duration_months == 4


def test_a_reservation_recap_shows_its_date(api, users, make_evaluation):
    evaluation = make_evaluation("sent")
    release = evaluation.referral.author_release_date
    html = text(
        decide(
            api(users["prosecutor_nanterre"]), evaluation, "reserved", sign=False, reserved_until=release.isoformat()
        )
    )
    assert "Téléphone réservé jusqu'au" in html and release.strftime("%d/%m/%Y") in html
    assert not Decision.objects.exists()


def test_the_prosecutor_grants_through_the_form_then_reads_the_signed_decision(api, users, make_evaluation):
    evaluation = make_evaluation("sent")
    client = api(users["prosecutor_nanterre"])
    response = decide(client, evaluation, "granted", duration_months="4", reasoning="Danger grave et imminent.")
    decision = Decision.objects.get()
    assert response.status_code == 302
    assert response["Location"] == decision_url(evaluation.referral_id) + f"#decision-{decision.pk}"
    assert Referral.objects.get(pk=evaluation.referral_id).status == "granted"
    assert (decision.outcome, decision.duration_months, decision.signed_by) == ("granted", 4, "Paul Mercier")

    document_url = reverse("decision-document", args=[decision.pk, "decision"])
    response = client.get(response["Location"])
    html = text(response)
    assert "Décision signée sur le dossier" in html and "Attribution du téléphone" in html
    assert "Décision signée</h2>" in html and "4 mois" in html and "Paul Mercier" in html
    assert "Décider</h2>" not in html  # no second decision on the same report
    assert "en cours de génération" in html and document_url not in html
    assert client.get(document_url).status_code == 409  # not rendered yet

    make_ready(decision)
    assert document_url in text(client.get(decision_url(evaluation.referral_id)))
    response = client.get(document_url)
    assert response.status_code == 200 and response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    from audit.models import AccessEvent

    assert AccessEvent.objects.filter(
        action="document.open", object_type="decisiondocument", actor=users["prosecutor_nanterre"]
    ).exists()


def test_a_refusal_without_reasoning_is_refused_in_french_and_nothing_changes(api, users, make_evaluation):
    evaluation = make_evaluation("sent")
    response = decide(api(users["prosecutor_nanterre"]), evaluation, "refused", reasoning="  ")
    html = text(response)
    assert response.status_code == 400
    assert "La motivation est obligatoire pour cette décision." in html
    assert 'href="#id_reasoning"' in html
    assert not Decision.objects.exists()
    assert Referral.objects.get(pk=evaluation.referral_id).status == "report_sent"


def test_an_info_request_takes_the_question_field(api, users, make_evaluation):
    evaluation = make_evaluation("sent")
    client = api(users["prosecutor_nanterre"])
    response = decide(client, evaluation, "info_requested", reasoning="Motivation sans question.")
    assert response.status_code == 400
    assert "La question posée au CIDFF est obligatoire." in text(response)
    assert 'href="#id_question"' in text(response)
    response = decide(client, evaluation, "info_requested", question="Date exacte de la libération ?")
    assert response.status_code == 302
    assert Decision.objects.get().reasoning == "Date exacte de la libération ?"
    assert Referral.objects.get(pk=evaluation.referral_id).status == "info_requested"


def test_an_outcome_not_offered_is_refused(api, users, make_evaluation):
    evaluation = make_evaluation("sent")
    response = decide(api(users["prosecutor_nanterre"]), evaluation, "renewed")
    assert response.status_code == 400
    assert "Cette décision n'est pas possible." in text(response)
    assert not Decision.objects.exists()


def test_a_renewal_report_offers_renewal_or_end(api, users, active):
    attribution = active(handover_date=days_ago(170))
    renewal_report(attribution.referral)
    html = text(api(users["prosecutor_nanterre"]).get(decision_url(attribution.referral_id)))
    assert 'value="renewed"' in html and 'value="ended"' in html
    assert 'value="granted"' not in html and "Question posée au CIDFF" not in html
    assert "Renouvellements déjà décidés : 0" in html


def test_only_the_prosecutor_of_the_jurisdiction_sees_the_decision_page(api, users, make_evaluation):
    evaluation = make_evaluation("sent")
    url = decision_url(evaluation.referral_id)
    assert api(users["prosecutor_paris"]).get(url).status_code == 404
    assert api(users["prosecutor_paris"]).post(url, {"outcome": "granted"}).status_code == 404
    assert api(users["operator"]).get(url).status_code == 404
    assert api(users["coord_sud"]).get(url).status_code == 403
    assert api(users["coord_sud"]).post(url, {"evaluation": evaluation.pk, "outcome": "granted"}).status_code == 403
    assert not Decision.objects.exists()


def test_decision_documents_are_hidden_from_other_organisations(api, users, decided):
    decision = decided("granted")
    make_ready(decision)
    url = reverse("decision-document", args=[decision.pk, "decision"])
    assert api(users["coord_sud"]).get(url).status_code == 200
    for key in ("prosecutor_paris", "coord_nord", "referrer_ccas", "operator"):
        assert api(users[key]).get(url).status_code == 404, key
    assert api(users["coord_sud"]).get(reverse("decision-document", args=[decision.pk, "autre"])).status_code == 404


# --- the CIDFF: stock -----------------------------------------------------------------------------------


def test_the_stock_page_lists_only_her_cidffs_phones(api, users, stock):
    response = api(users["coord_sud"]).get(reverse("device-list"))
    html = text(response)
    assert response.status_code == 200
    for device in stock[:3]:
        assert device.serial in html and device.phone_number in html
    assert stock[3].serial not in html  # CIDFF 92 Nord's
    assert "3 en stock" in html and "Ajouter un téléphone au stock" in html
    assert "Stock de téléphones</a>" in html
    assert_csp_safe(raw_text(response))

    html = text(api(users["coord_nord"]).get(reverse("device-list")))
    assert stock[3].serial in html and stock[0].serial not in html
    html = text(api(users["supervisor"]).get(reverse("device-list")))
    assert all(device.serial in html for device in stock) and "Ajouter un téléphone au stock" not in html
    assert api(users["prosecutor_nanterre"]).get(reverse("device-list")).status_code == 403
    assert api(users["coord_nord"]).get(reverse("device-detail", args=[stock[0].pk])).status_code == 404
    assert api(users["prosecutor_nanterre"]).get(reverse("device-detail", args=[stock[0].pk])).status_code == 404


def test_the_stock_filters_by_state_and_adds_a_phone(api, users, stock):
    client = api(users["coord_sud"])
    services.device_update(user=users["coord_sud"], device_id=stock[1].pk, status="defective", note="Écran")
    html = text(client.get(reverse("device-list") + "?etat=defective"))
    assert stock[1].serial in html and stock[0].serial not in html

    response = client.post(reverse("device-list"), {"ajout-serial": "IMEI3512345678", "ajout-phone_number": "07 11"})
    assert response.status_code == 400 and "Numéro d'appel invalide." in text(response)
    response = client.post(
        reverse("device-list"), {"ajout-serial": "IMEI3512345678", "ajout-phone_number": "07 12 34 56 78"}
    )
    assert response.status_code == 302
    device = Device.objects.get(serial="IMEI3512345678")
    assert (device.organisation_id, device.status) == (users["coord_sud"].organisation_id, "in_stock")
    response = client.post(
        reverse("device-list"), {"ajout-serial": "IMEI3512345678", "ajout-phone_number": "07 12 34 56 79"}
    )
    assert response.status_code == 400 and "existe déjà" in text(response)


def test_the_coordinator_changes_a_phones_state_and_reads_its_history(api, users, stock):
    client = api(users["coord_sud"])
    url = reverse("device-detail", args=[stock[0].pk])
    assert client.post(url, {"etat-status": "assigned"}).status_code == 400  # not by hand
    response = client.post(url, {"etat-status": "defective", "etat-note": "Batterie gonflée"})
    assert response.status_code == 302
    assert Device.objects.get(pk=stock[0].pk).status == "defective"
    html = text(client.get(url))
    assert "En stock → Défectueux" in html and "Batterie gonflée" in html and "Sophie Lefèvre" in html
    assert_csp_safe(html)
    assert api(users["supervisor"]).post(url, {"etat-status": "in_stock"}).status_code == 403


def test_an_assigned_phone_changes_only_by_the_return(api, users, active):
    attribution = active()
    url = reverse("device-detail", args=[attribution.device_id])
    html = text(api(users["coord_sud"]).get(url))
    assert "Changer l'état</h2>" not in html and attribution.referral.reference in html
    response = api(users["coord_sud"]).post(url, {"etat-status": "lost"})
    assert response.status_code == 409
    assert "Un téléphone attribué ne change d'état que par la restitution." in text(response)


# --- the CIDFF: handover ------------------------------------------------------------------------------


def test_the_coordinator_hands_a_phone_over_through_the_form(api, users, decided, stock):
    decision = decided("granted", duration_months=3)
    referral = decision.referral
    client = api(users["coord_sud"])
    html = text(client.get(reverse("referral-detail", args=[referral.pk])))
    assert reverse("handover", args=[referral.pk]) in html and "Remettre le téléphone" in html

    response = client.get(reverse("handover", args=[referral.pk]))
    html = text(response)
    assert response.status_code == 200
    assert all(device.serial in html for device in stock[:3]) and stock[3].serial not in html
    assert measure_end_date(timezone.localdate(), 3).strftime("%d/%m/%Y") in html
    assert "3 mois" in html
    assert_csp_safe(raw_text(response))

    response = client.post(reverse("handover", args=[referral.pk]), handover_data(stock[1], consent=None))
    assert response.status_code == 400
    assert "Le consentement exprès de la bénéficiaire est indispensable." in text(response)
    assert not Attribution.objects.exists()
    posted = {**handover_data(stock[1], consent=None), "device": ""}
    response = client.post(reverse("handover", args=[referral.pk]), posted)
    html = text(response)
    assert 'href="#id_device">Téléphone remis : Choisissez le téléphone remis.' in html
    assert 'href="#id_consent">La bénéficiaire a donné son consentement exprès au dispositif : Le consentement' in html

    response = client.post(reverse("handover", args=[referral.pk]), handover_data(stock[1], geolocation_consent=None))
    assert response.status_code == 302
    assert response["Location"] == reverse("referral-detail", args=[referral.pk]) + "#mesure"
    attribution = Attribution.objects.get()
    assert (attribution.device_id, attribution.geolocation_consent) == (stock[1].pk, False)
    assert attribution.end_date == measure_end_date(timezone.localdate(), 3)
    assert Referral.objects.get(pk=referral.pk).status == "active"
    assert Device.objects.get(pk=stock[1].pk).status == "assigned"
    assert client.get(reverse("handover", args=[referral.pk])).status_code == 409


def test_a_phone_taken_meanwhile_is_explained_and_the_form_comes_back(api, users, decided, stock):
    decision = decided("granted")
    url = reverse("handover", args=[decision.referral_id])
    client = api(users["coord_sud"])
    services.device_update(user=users["coord_sud"], device_id=stock[0].pk, status="reserved")
    response = client.post(url, handover_data(stock[0]))
    assert response.status_code == 400
    assert "Ce téléphone n'est plus en stock (remis entre-temps ou changé d'état)" in text(response)

    taken = Conflict("Ce téléphone n'est pas disponible.")
    with mock.patch.object(services, "attribution_handover", side_effect=taken):
        response = client.post(url, handover_data(stock[1]))
    html = text(response)
    assert response.status_code == 409
    assert "Ce téléphone n'est pas disponible." in html and "Enregistrer la remise" in html
    assert not Attribution.objects.exists()


def test_the_handover_page_belongs_to_the_dossiers_cidff(api, users, decided, stock):
    decision = decided("granted")
    url = reverse("handover", args=[decision.referral_id])
    for key in ("coord_nord", "prosecutor_paris", "operator"):
        assert api(users[key]).get(url).status_code == 404, key
        assert api(users[key]).post(url, handover_data(stock[0])).status_code == 404, key
    assert api(users["prosecutor_nanterre"]).get(url).status_code == 403
    assert api(users["eval1_sud"]).get(url).status_code == 403


# --- the dossier page: the measure -----------------------------------------------------------------------


def test_the_dossier_page_shows_days_left_and_alerts(api, users, active):
    attribution = active(handover_date=days_ago(10), reasoning="Motivation du parquet.")
    services.alert_create(
        user=users["operator"],
        attribution_id=attribution.pk,
        occurred_at=timezone.now() - datetime.timedelta(hours=2),
        kind="real_alert",
        police_intervention=True,
        arrest=True,
        notes="Patrouille sur place en 6 minutes.",
    )
    days_left = (attribution.end_date - timezone.localdate()).days
    url = reverse("referral-detail", args=[attribution.referral_id])
    for key in ("coord_sud", "prosecutor_nanterre", "eval1_sud"):
        response = api(users[key]).get(url)
        html = text(response)
        assert response.status_code == 200, key
        assert "Décisions et mesure" in html
        assert f'<strong class="days-left__figure">{days_left}</strong> jours restants' in html
        assert attribution.device.phone_number in html and attribution.end_date.strftime("%d/%m/%Y") in html
        assert "Alerte réelle" in html and "Patrouille sur place en 6 minutes." in html
        assert "Attribution du téléphone" in html and "Motivation du parquet." in html
        assert_csp_safe(raw_text(response))
    coordinator = text(api(users["coord_sud"]).get(url))
    assert "Lancer la réévaluation" in coordinator and "Contacts de suivi" in coordinator
    assert "Retirer le téléphone" not in coordinator
    prosecutor = text(api(users["prosecutor_nanterre"]).get(url))
    assert "Retirer le téléphone" in prosecutor and "Lancer la réévaluation" not in prosecutor
    assert "Contacts de suivi" not in prosecutor


def test_the_referrer_never_sees_the_measure_but_reads_the_outcome_notice(api, users, active):
    attribution = active(reasoning="Motivation confidentielle.")
    html = text(api(users["referrer_ccas"]).get(reverse("referral-detail", args=[attribution.referral_id])))
    assert "Suite donnée" in html and "Téléphone attribué" in html
    assert "Décisions et mesure" not in html and "Motivation confidentielle." not in html
    assert attribution.device.phone_number not in html


def test_the_coordinator_starts_the_reevaluation_and_logs_a_follow_up(api, users, active):
    attribution = active()
    client = api(users["coord_sud"])
    response = measure(client, attribution.referral_id, "suivi", {"date": "", "channel": "phone", "notes": ""})
    assert response.status_code == 400
    html = text(response)
    assert "Indiquez la date." in html and "voir le formulaire «\xa0Ajouter un contact de suivi\xa0»" in html
    response = measure(
        client,
        attribution.referral_id,
        "suivi",
        {"date": timezone.localdate().isoformat(), "channel": "phone", "notes": "Point téléphonique, rassurée."},
    )
    assert response.status_code == 302
    assert FollowUpContact.objects.get().notes == "Point téléphonique, rassurée."
    assert measure(api(users["prosecutor_nanterre"]), attribution.referral_id, "reevaluation").status_code == 403
    response = measure(client, attribution.referral_id, "reevaluation")
    assert response.status_code == 302
    assert Referral.objects.get(pk=attribution.referral_id).status == "reevaluation"
    response = measure(client, attribution.referral_id, "reevaluation")
    assert response.status_code == 409
    assert "La réévaluation se lance pendant une mesure en cours." in text(response)


def test_withdrawal_for_non_compliance_needs_the_copil_date(api, users, active):
    attribution = active()
    client = api(users["prosecutor_nanterre"])
    response = measure(client, attribution.referral_id, "retrait", {"reason": "non_compliance", "comment": ""})
    html = text(response)
    assert response.status_code == 400
    assert "Le retrait pour non-respect exige la date de l'avis du comité de pilotage." in html
    assert 'id="form-retrait" open' in html
    assert Attribution.objects.get(pk=attribution.pk).status == "active"
    assert Referral.objects.get(pk=attribution.referral_id).status == "active"

    assert measure(api(users["coord_sud"]), attribution.referral_id, "retrait", {"reason": "moved"}).status_code == 403
    response = measure(
        client,
        attribution.referral_id,
        "retrait",
        {"reason": "non_compliance", "copil_opinion_date": days_ago(2).isoformat(), "comment": "Prêts répétés."},
    )
    assert response.status_code == 302
    attribution.refresh_from_db()
    assert (attribution.status, attribution.copil_opinion_date) == ("withdrawn", days_ago(2))
    assert Referral.objects.get(pk=attribution.referral_id).status == "ended"


def test_the_return_puts_the_phone_back_in_stock_and_closes_the_dossier(api, users, active):
    attribution = active()
    services.attribution_withdraw(user=users["prosecutor_nanterre"], attribution_id=attribution.pk, reason="moved")
    client = api(users["coord_sud"])
    url = reverse("referral-detail", args=[attribution.referral_id])
    html = text(client.get(url))
    assert "Enregistrer la restitution" in html and "Déménagement hors du ressort" in html
    response = measure(client, attribution.referral_id, "restitution", {"returned_on": "2020-01-01", "condition": ""})
    assert response.status_code == 400
    assert "Précisez l'état du téléphone restitué." in text(response)
    response = measure(
        client,
        attribution.referral_id,
        "restitution",
        {"returned_on": timezone.localdate().isoformat(), "condition": "good", "notes": "Complet."},
    )
    assert response.status_code == 302
    referral = Referral.objects.get(pk=attribution.referral_id)
    assert (referral.status, referral.closure_reason) == ("closed", "moved")
    assert Device.objects.get(pk=attribution.device_id).status == "in_stock"
    assert DeviceEvent.objects.filter(device_id=attribution.device_id).order_by("id").last().to_status == "in_stock"
    assert "Téléphone restitué le" in text(client.get(url))


def test_measure_actions_answer_404_to_other_organisations(api, users, active):
    attribution = active()
    for key in ("coord_nord", "prosecutor_paris", "operator", "eval_nord"):
        for action, data in (("retrait", {"reason": "moved"}), ("reevaluation", {}), ("suivi", {})):
            response = measure(api(users[key]), attribution.referral_id, action, data)
            assert response.status_code == 404, (key, action)
    assert measure(api(users["coord_sud"]), attribution.referral_id, "inconnue").status_code == 404
    assert Referral.objects.get(pk=attribution.referral_id).status == "active"


# --- the operator -------------------------------------------------------------------------------------


def test_the_operator_lists_active_beneficiaries_and_reads_the_sheet_only(api, users, active):
    attribution = active(reasoning="Motivation secrète du parquet.")
    referral = attribution.referral
    client = api(users["operator"])
    response = client.get(reverse("sheet-list"))
    html = text(response)
    assert response.status_code == 200
    assert referral.reference in html and attribution.device.phone_number in html
    assert attribution.end_date.strftime("%d/%m/%Y") in html
    assert '<a class="site-nav__link" href="/beneficiaires/" aria-current="page">Bénéficiaires actives</a>' in html
    assert_csp_safe(raw_text(response))

    response = client.get(reverse("sheet-detail", args=[attribution.pk]))
    html = text(response)
    assert response.status_code == 200
    assert referral.victim["last_name"] in html and referral.author["last_name"] in html
    assert referral.victim["safe_contact"] in html and attribution.device.phone_number in html
    # of the evaluation, the retained level only (coloured and written), and the geolocation consent
    assert '<dt>Niveau de danger retenu</dt><dd><span class="level level--severe">Danger grave</span></dd>' in html
    assert "<dt>Géolocalisation</dt>" in html
    for secret in (
        NARRATIVE,
        "Niveau calculé",
        "Score",
        "Danger élevé",
        "Motivation secrète du parquet.",
        referral.facts,
        "Préconisations",
    ):
        assert secret not in html, secret
    assert_csp_safe(raw_text(response))
    assert client.get(reverse("referral-detail", args=[referral.pk])).status_code == 404
    assert client.get(decision_url(referral.pk)).status_code == 404


def test_the_operator_reports_an_alert_through_the_form(api, users, active):
    attribution = active()
    client = api(users["operator"])
    url = reverse("sheet-alert", args=[attribution.pk])
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    html = text(client.get(reverse("sheet-detail", args=[attribution.pk])))
    assert 'type="datetime-local"' in html and "Signaler une alerte" in html

    response = client.post(url, {"alerte-occurred_at": now, "alerte-kind": "real_alert", "alerte-arrest": "on"})
    assert response.status_code == 400
    assert "Une interpellation suppose une intervention des forces de l'ordre." in text(response)
    assert not Alert.objects.exists()

    response = client.post(
        url,
        {
            "alerte-occurred_at": now,
            "alerte-kind": "real_alert",
            "alerte-police_intervention": "on",
            "alerte-arrest": "on",
            "alerte-notes": "Auteur interpellé devant l'immeuble.",
        },
    )
    assert response.status_code == 302
    alert = Alert.objects.get()
    assert (alert.kind, alert.police_intervention, alert.arrest, alert.reported_by) == (
        "real_alert",
        True,
        True,
        users["operator"],
    )
    html = text(client.get(response["Location"]))
    assert "Alerte réelle du" in html and "Auteur interpellé devant l'immeuble." in html
    posted = {"alerte-occurred_at": now, "alerte-kind": "real_alert"}
    assert api(users["coord_sud"]).post(url, posted).status_code == 403


def test_the_sheet_pages_answer_404_to_others_and_once_the_measure_ended(api, users, active):
    attribution = active()
    make_ready(attribution.decision, DecisionDocumentKind.BENEFICIARY_SHEET)
    operator = api(users["operator"])
    assert operator.get(reverse("sheet-pdf", args=[attribution.pk])).content == PDF
    for key in ("coord_nord", "prosecutor_paris", "referrer_ccas", "eval_nord"):
        client = api(users[key])
        assert client.get(reverse("sheet-detail", args=[attribution.pk])).status_code == 404, key
        assert client.get(reverse("sheet-pdf", args=[attribution.pk])).status_code == 404, key
        assert client.post(reverse("sheet-alert", args=[attribution.pk]), {}).status_code == 404, key
        assert attribution.referral.reference not in text(client.get(reverse("sheet-list")))
    services.attribution_withdraw(user=users["prosecutor_nanterre"], attribution_id=attribution.pk, reason="death")
    assert operator.get(reverse("sheet-detail", args=[attribution.pk])).status_code == 404
    assert attribution.referral.reference not in text(operator.get(reverse("sheet-list")))


def test_navigation_entries_by_role(api, users):
    html = text(api(users["coord_sud"]).get(reverse("referral-list")))
    assert 'href="/telephones/">Stock de téléphones</a>' in html
    html = text(api(users["operator"]).get(reverse("sheet-list")))
    assert "Rapports à décider" not in html and 'href="/dossiers/">' not in html
