"""The whole journey of a dossier in a real browser, as the demo roles, every page checked by axe-core.

Selectors are the visible French labels and roles (what a person reads), never CSS classes.
"""

import datetime
import re

import pytest
from django.utils import timezone

from referrals.models import Referral

pytestmark = pytest.mark.django_db(transaction=True)


def starts(text: str) -> re.Pattern:
    """A label as read: « Nom de la victime » and not « Prénom de la victime » (marks like « (obligatoire) » follow)."""
    return re.compile("^" + re.escape(text))


def choose(select, text: str):
    """Select the option whose text contains `text` (option labels may carry extra details, e.g. a workload)."""
    option = select.get_by_role("option", name=re.compile(re.escape(text)))
    select.select_option(value=option.first.get_attribute("value"))


def days(n: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


def file_a_signalement(referrer) -> Referral:
    page = referrer.goto("/signalements/nouveau/")
    referrer.check("signalement-formulaire")
    page.get_by_label(starts("CIDFF destinataire")).select_option(label="CIDFF 92 Sud")
    page.get_by_role("group", name=starts("Urgence")).get_by_label("Urgente").check()
    page.get_by_label(starts("Votre fonction")).select_option(label="Travailleur social")
    page.get_by_label(starts("Nom de la victime")).fill("Lambertini")
    page.get_by_label(starts("Prénom de la victime")).fill("Séraphine")
    page.get_by_label(starts("Date de naissance de la victime")).fill("1990-04-12")
    page.get_by_label(starts("Langue parlée")).fill("français")
    page.get_by_label(starts("Téléphone de la victime")).fill("06 11 22 33 44")
    page.get_by_label(starts("Moyen de contact sûr")).fill("Portable, ne jamais laisser de message.")
    page.get_by_label(starts("Moments où la joindre")).fill("En semaine de 9 h à 12 h")
    page.get_by_label(starts("Nom de l'auteur")).fill("Morelon")
    page.get_by_label(starts("Prénom de l'auteur")).fill("Julien")
    page.get_by_label(starts("Lien avec la victime")).select_option(label="Ex-conjoint")
    page.get_by_label(starts("Situation de l'auteur")).select_option(label="Libre")
    child = page.get_by_role("group", name="Enfant 1")
    child.get_by_label(starts("Prénom")).fill("Lina")
    child.get_by_label(starts("Date de naissance")).fill("2019-05-03")
    page.get_by_role("radio", name=starts("Non, ils ne vivent plus ensemble")).check()
    page.get_by_label(starts("Date de la séparation")).fill(days(-40))
    page.get_by_label(starts("Description des faits")).fill("Menaces de mort répétées depuis la séparation.")
    measure = page.get_by_role("group", name="Mesure ou plainte 1")
    measure.get_by_label(starts("Type")).select_option(label="Ordonnance de protection")
    measure.get_by_label(starts("Autorité ou service")).fill("JAF de Nanterre")
    measure.get_by_label(starts("Date"), exact=False).first.fill(days(-10))
    measure.get_by_label(starts("Interdiction de contact")).check()
    page.get_by_label(starts("La victime a été informée")).check()
    page.get_by_role("button", name="Transmettre au CIDFF").click()
    page.get_by_text(re.compile(r"Signalement SIG-\d{4}-\d{5} transmis au CIDFF 92 Sud")).wait_for()
    referrer.check("signalement-transmis")
    return Referral.objects.get()


def acknowledge_and_assign(coordinator, referral, evaluator_name: str):
    page = coordinator.goto("/")
    coordinator.check("accueil-coordination")
    page.get_by_role("link", name=referral.reference).first.click()
    page.get_by_role("heading", name=f"Dossier {referral.reference}").wait_for()
    coordinator.check("dossier-a-accuser-reception")
    page.get_by_role("button", name="Accuser réception").click()
    page.get_by_text(f"Réception du dossier {referral.reference} accusée").wait_for()
    choose(page.get_by_label(starts("Évaluatrice ou évaluateur")), evaluator_name)
    page.get_by_role("button", name="Attribuer", exact=True).click()
    page.get_by_text(f"Dossier {referral.reference} attribué à").wait_for()
    coordinator.check("dossier-attribue")


def evaluate(evaluator, referral, *, start: str = "Commencer l'évaluation", step: str = "evaluation"):
    """The whole grid (two red flags: danger grave), eligibility, interview, conclusion; then finalise."""
    page = evaluator.goto(f"/dossiers/{referral.pk}/")
    evaluator.check(f"{step}-dossier")
    page.get_by_role("button", name=start).click()
    page.get_by_role("heading", name=re.compile("Évaluation du danger — dossier")).wait_for()
    evaluator.check(f"{step}-formulaire")
    for radio in page.get_by_role("radio", name="Non", exact=True).all():
        radio.check()
    for item in ("Strangulation", "Menaces de mort"):
        page.get_by_role("group", name=re.compile(item, re.I)).get_by_role("radio", name="Oui", exact=True).check()
    page.get_by_role("radio", name=starts("Violences par un (ex-)conjoint")).check()
    page.get_by_label(starts("La victime a donné son consentement exprès")).check()
    page.get_by_role("radio", name=starts("Interdiction de contact prononcée")).check()
    page.get_by_label(starts("Date de l'entretien")).fill(days(-1))
    page.get_by_label(starts("Lieu de l'entretien")).fill("Permanence du CIDFF")
    page.get_by_label(starts("Synthèse de l'évaluation")).fill("Menaces de mort et tentative d'étranglement.")
    page.get_by_label("Attribuer un téléphone grave danger").check()
    page.get_by_role("button", name="Finaliser l'évaluation").click()
    page.get_by_text("Évaluation finalisée :").wait_for()
    evaluator.check(f"{step}-finalisee")


def second_reading_and_transmit(coordinator, referral, *, step: str = "seconde-lecture"):
    page = coordinator.goto(f"/dossiers/{referral.pk}/")
    page.get_by_role("link", name=starts("Seconde lecture")).first.click()
    page.get_by_role("heading", name=f"Seconde lecture — dossier {referral.reference}").wait_for()
    coordinator.check(step)
    page.get_by_role("button", name="Valider (seconde lecture)").click()
    page.get_by_text(f"Évaluation du dossier {referral.reference} validée").wait_for()
    page.get_by_role("button", name="Transmettre au parquet").click()
    page.get_by_text(f"Rapport d'évaluation du dossier {referral.reference} transmis au parquet").wait_for()
    coordinator.check(f"{step}-transmis")


def decide(prosecutor, referral, outcome: str, *, step: str):
    page = prosecutor.goto("/")
    prosecutor.check(f"{step}-accueil-parquet")
    page.get_by_role("link", name=f"Examiner et décider : dossier {referral.reference}").click()
    page.get_by_role("heading", name=f"Décision du parquet — dossier {referral.reference}").wait_for()
    prosecutor.check(f"{step}-formulaire")
    page.get_by_role("radio", name=outcome, exact=True).check()
    signed = page.get_by_text(f"Décision signée sur le dossier {referral.reference}")
    # The form comes in steps (« Continuer », then the reasoning and « Vérifier avant de signer », then
    # « Signer la décision »): go on until the decision is signed, filling the reasoning where it is asked.
    forward = page.get_by_role("button", name=re.compile(r"^(Continuer|Vérifier avant de signer|Signer la décision)"))
    for screen in range(4):
        reasoning = page.get_by_label(starts("Motivation"))
        if reasoning.count() and not reasoning.input_value():
            reasoning.fill("Danger grave établi par l'évaluation du CIDFF.")
        if screen:
            prosecutor.check(f"{step}-etape-{screen + 1}")
        forward.last.click()
        signed.or_(forward).first.wait_for()
        page.wait_for_load_state()
        if signed.count():
            break
    signed.wait_for()
    prosecutor.check(f"{step}-signee")


def add_device_to_stock(coordinator, serial: str, number: str):
    page = coordinator.goto("/")
    page.get_by_role("link", name="Stock de téléphones").click()
    page.get_by_role("heading", name="Ajouter un téléphone au stock").wait_for()
    page.get_by_role("textbox", name=starts("Numéro de série")).fill(serial)
    page.get_by_role("textbox", name=starts("Numéro d'appel")).fill(number)
    page.get_by_role("button", name="Ajouter au stock").click()
    page.get_by_text(re.compile(f"Téléphone {serial} .* ajouté au stock")).wait_for()
    coordinator.check("stock-telephones")


def hand_over(coordinator, referral, number: str):
    page = coordinator.goto(f"/dossiers/{referral.pk}/")
    coordinator.check("dossier-attribue-remise-a-organiser")
    page.get_by_role("link", name="Remettre le téléphone").click()
    page.get_by_role("heading", name=f"Remise du téléphone — dossier {referral.reference}").wait_for()
    coordinator.check("remise-formulaire")
    choose(page.get_by_label(starts("Téléphone remis")), number)
    page.get_by_label(starts("La bénéficiaire a donné son consentement")).check()
    page.get_by_label(starts("La bénéficiaire accepte d'être géolocalisée")).check()
    page.get_by_role("button", name="Enregistrer la remise").click()
    page.get_by_text(re.compile(f"Téléphone {number} remis")).wait_for()
    coordinator.check("mesure-en-cours")


def report_an_alert(operator, referral):
    """Called from the beneficiary's own phone: the operator finds her sheet by that number."""
    page = operator.goto("/")
    operator.check("accueil-operateur")
    page = operator.goto("/beneficiaires/")
    page.get_by_role("searchbox", name="Numéro qui appelle").fill("+33 6 11 22 33 44")
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_url(re.compile(r"tel="))
    operator.check("recherche-par-numero")
    page.get_by_role("link", name=f"Fiche bénéficiaire du dossier {referral.reference}").click()
    page.get_by_role("heading", name="Signaler une alerte").wait_for()
    operator.check("fiche-beneficiaire")
    page.get_by_role("radio", name="Alerte réelle").check()
    page.get_by_label(starts("Les forces de l'ordre sont intervenues")).check()
    page.get_by_label(starts("Observations")).fill("Intervention de police en 8 minutes.")
    page.get_by_role("button", name="Enregistrer l'alerte").click()
    page.get_by_role("cell", name=re.compile("Alerte réelle")).first.wait_for()
    operator.check("alerte-enregistree")


def launch_reevaluation(coordinator, referral):
    page = coordinator.goto(f"/dossiers/{referral.pk}/")
    page.get_by_role("button", name="Lancer la réévaluation").click()
    page.get_by_role("heading", name=f"Dossier {referral.reference}").wait_for()
    page.wait_for_load_state()
    coordinator.check("reevaluation-lancee")


def withdraw(prosecutor, referral):
    """The parquet withdraws the phone: the measure ends, the CIDFF gets the phone back."""
    page = prosecutor.goto(f"/dossiers/{referral.pk}/")
    page.get_by_text("Retirer le téléphone", exact=True).first.click()  # the <summary> opens the form
    page.get_by_label(starts("Motif du retrait")).select_option(index=1)
    page.get_by_role("button", name="Retirer le téléphone").click()
    page.get_by_text(f"la mesure du dossier {referral.reference} prend fin").wait_for()
    prosecutor.check("retrait-du-telephone")


def record_return(coordinator, referral):
    page = coordinator.goto(f"/dossiers/{referral.pk}/")
    coordinator.check("mesure-terminee-restitution-attendue")
    page.get_by_role("radio", name="Bon état").check()
    page.get_by_role("button", name="Enregistrer la restitution").click()
    page.wait_for_load_state()
    page.get_by_role("heading", level=1).first.wait_for()
    coordinator.check("restitution-enregistree")


def find_by_name(coordinator, referral):
    """The coordination finds the dossier by the victim's name and birth date (blind index), from the list."""
    page = coordinator.goto("/dossiers/")
    page.get_by_label("Rechercher", exact=True).fill("LAMBERTINI Séraphine 12/04/1990")
    page.get_by_role("button", name="Appliquer").click()
    page.wait_for_url(re.compile(r"q="))
    page.get_by_role("link", name=referral.reference).first.wait_for()
    coordinator.check("recherche-par-nom")


def look_around(visitor, role: str, pages: dict):
    """The pages of every day beside the journey: each shown, checked by axe, at 768 px too."""
    for step, path in pages.items():
        page = visitor.goto(path)
        page.get_by_role("heading", level=1).first.wait_for()
        visitor.check(f"{role}-{step}")


def test_the_whole_journey_in_a_browser(tour, users):
    referrer = tour.sign_in(users["referrer_ccas"])
    referrer.goto("/")
    referrer.check("accueil-referent")
    referral = file_a_signalement(referrer)
    assert referral.status == "submitted"

    coordinator = tour.sign_in(users["coord_sud"])
    find_by_name(coordinator, referral)
    acknowledge_and_assign(coordinator, referral, "Amina Diallo")

    evaluator = tour.sign_in(users["eval1_sud"])
    evaluate(evaluator, referral)
    referral.refresh_from_db()
    assert referral.evaluations.get().status == "finalized"

    second_reading_and_transmit(coordinator, referral)
    referral.refresh_from_db()
    assert referral.status == "report_sent"

    prosecutor = tour.sign_in(users["prosecutor_nanterre"])
    decide(prosecutor, referral, "Attribution du téléphone", step="decision")
    referral.refresh_from_db()
    assert referral.status == "granted"

    add_device_to_stock(coordinator, "IMEI-356938035643809", "06 98 76 54 32")
    hand_over(coordinator, referral, "06 98 76 54 32")
    referral.refresh_from_db()
    assert referral.status == "active"

    operator = tour.sign_in(users["operator"])
    report_an_alert(operator, referral)

    # Renewal: the CIDFF re-evaluates, the parquet renews the measure.
    launch_reevaluation(coordinator, referral)
    referral.refresh_from_db()
    assert referral.status == "reevaluation"
    evaluate(evaluator, referral, start="Commencer la réévaluation", step="reevaluation")
    second_reading_and_transmit(coordinator, referral, step="reevaluation-seconde-lecture")
    decide(prosecutor, referral, "Renouvellement", step="renouvellement")
    referral.refresh_from_db()
    assert referral.status == "active"

    # The phone is withdrawn, then returned to the CIDFF: the dossier is closed.
    withdraw(prosecutor, referral)
    referral.refresh_from_db()
    assert referral.status == "ended"
    record_return(coordinator, referral)
    referral.refresh_from_db()
    assert referral.status == "closed"

    everyday = {"dossiers": "/dossiers/", "notifications": "/notifications/", "compte": "/compte/"}
    look_around(referrer, "referent", everyday)
    look_around(
        coordinator,
        "coordination",
        {**everyday, "echeances": "/echeances/", "tableau-de-bord": "/tableau-de-bord/", "stock": "/telephones/"},
    )
    look_around(evaluator, "evaluatrice", everyday)
    look_around(prosecutor, "parquet", {**everyday, "a-decider": "/rapports-a-decider/", "echeances": "/echeances/"})
    look_around(operator, "operateur", {"beneficiaires": "/beneficiaires/", "compte": "/compte/"})
    tour.assert_clean()


def test_an_open_eligibility_point_never_strands_the_dossier(tour, users, make_evaluation):
    """Cohabitation left « non précisé »: warned at finalisation and at the second reading, the validation is
    refused at the dossier's address (a reload does not post again), the evaluation goes back to its evaluator
    with the reason, and once corrected the report reaches the parquet."""
    evaluation = make_evaluation("draft", eligibility={"cohabiting": None})
    referral = evaluation.referral
    blocked = "Précisez si la victime cohabite avec l'auteur."

    evaluator = tour.sign_in(users["eval1_sud"])
    page = evaluator.goto(f"/evaluations/{evaluation.pk}/")
    page.get_by_role("heading", name="La transmission au parquet sera refusée").wait_for()
    assert page.get_by_text(blocked).first.is_visible()
    evaluator.check("finalisation-avertie")
    page.get_by_role("button", name="Finaliser l'évaluation").click()
    page.get_by_text("Évaluation finalisée :").wait_for()

    coordinator = tour.sign_in(users["coord_sud"])
    review = f"/evaluations/{evaluation.pk}/seconde-lecture/"
    page = coordinator.goto(review)
    page.get_by_role("heading", name="Validation impossible pour l'instant").wait_for()
    coordinator.check("seconde-lecture-avertie")
    page.get_by_role("button", name="Valider (seconde lecture)").click()
    page.get_by_text("Validation refusée :").wait_for()
    coordinator.check("validation-refusee")
    page.wait_for_url(tour.base_url + review)  # the address is the second reading's, not the action's
    page.reload()
    page.get_by_role("heading", name="Validation impossible pour l'instant").wait_for()
    assert page.get_by_text("Validation refusée :").count() == 0  # the reload read the page, posted nothing

    page.get_by_text("Renvoyer à l'évaluatrice", exact=True).first.click()  # the <summary> opens the form
    page.get_by_label(starts("Ce qui doit être repris")).fill("Précisez si la victime vit encore avec l'auteur.")
    page.get_by_role("button", name="Renvoyer à l'évaluatrice").click()
    page.get_by_text(f"Évaluation du dossier {referral.reference} renvoyée à").wait_for()

    page = evaluator.goto("/")
    page.get_by_role("link", name=referral.reference).first.click()
    page.get_by_role("heading", name=f"Dossier {referral.reference}").wait_for()
    page = evaluator.goto(f"/evaluations/{evaluation.pk}/")
    page.get_by_role("heading", name="Évaluation renvoyée par la seconde lecture").wait_for()
    evaluator.check("evaluation-renvoyee")
    page.get_by_label(starts("Cohabitation avec l'auteur")).select_option(label="Non, ils ne vivent plus ensemble")
    page.get_by_role("button", name="Finaliser l'évaluation").click()
    page.get_by_text("Évaluation finalisée :").wait_for()

    second_reading_and_transmit(coordinator, referral, step="apres-renvoi")
    referral.refresh_from_db()
    assert referral.status == "report_sent"
    tour.assert_clean()
