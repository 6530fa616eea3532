from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from deadlines import selectors
from deadlines.models import DeadlineState

FILTERS = [
    ("surveillees", "À venir et dépassées", None),
    ("depassees", "Dépassées", DeadlineState.OVERDUE),
    ("tenues", "Tenues", DeadlineState.MET),
]


@login_required
@require_GET
def deadline_list(request):
    current = request.GET.get("etat")
    code, label, state = next((entry for entry in FILTERS if entry[0] == current), FILTERS[0])
    deadlines = selectors.deadline_list_visible(user=request.user, state=state)
    page = Paginator(deadlines, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "deadlines/list.html",
        {
            "page": page,
            "filters": [(entry[0], entry[1]) for entry in FILTERS],
            "current": code,
            "caption": f"{label} — {page.paginator.count}",
        },
    )
