"""What a work-queue page draws: the dossier list and the parquet's inbox share it (see referrals.queues)."""

from django.utils import timezone

from referrals.models import Urgency
from referrals.policies import referral_policy
from referrals.workflow import Status

LIST_SORTS = [
    ("urgence", "Urgents d'abord, puis les plus anciens"),
    ("depuis", "Les plus anciens d'abord"),
    ("-depuis", "Les plus récents d'abord"),
    ("-transmis", "Date de transmission, récente d'abord"),
    ("transmis", "Date de transmission, ancienne d'abord"),
    ("reference", "Référence"),
    ("-modifie", "Dernière modification"),
]


def work_queue_context(request, board, *, title) -> dict:
    """What a work-queue page draws (the dossier list, the parquet's inbox)."""
    user = request.user
    listing = board.listing
    filter_names = ("q", "urgence", "etat", "evaluatrice", "cidff", "sort")
    sort_choices = LIST_SORTS
    if listing.sort not in dict(LIST_SORTS):  # a column header's sort: keep it when the form is sent
        sort_choices = [(listing.sort, "Tri choisi dans le tableau"), *LIST_SORTS]
    return {
        "title": "Mes signalements" if referral_policy.is_referrer(user) else title,
        "board": board,
        "page": board.page,
        "listing": listing,
        "is_referrer": referral_policy.is_referrer(user),
        "is_coordinator": referral_policy.is_coordinator(user),
        "search_people": referral_policy.may_search_people(user),
        "urgencies": Urgency.choices,
        "statuses": Status.choices,
        "sort_choices": sort_choices,
        "hidden_fields": listing.hidden_fields(*filter_names),
        "filtered": any(name in listing.params() for name in filter_names if name != "sort"),
        "clear_url": listing.url(**dict.fromkeys(filter_names)),
        "now": timezone.now(),
    }
