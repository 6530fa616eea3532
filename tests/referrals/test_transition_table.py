"""The one transition table: documented as it is, no dead end, and the actions offered to each role."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from referrals.workflow import BY_ACTION, FINAL_STATES, SYSTEM, TRANSITIONS, Status

DOCS = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def test_the_architecture_document_lists_exactly_the_transitions_of_the_table():
    section = DOCS.read_text().split("## La table des transitions")[1].split("\n## ")[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))
    assert documented == set(BY_ACTION)


def test_every_state_but_the_final_one_has_a_way_forward_for_someone():
    for status in Status:
        ways = [t.action for t in TRANSITIONS if status in t.sources and t.by != SYSTEM]
        assert bool(ways) == (status not in FINAL_STATES), status


def test_every_transition_leads_to_a_state_and_names_a_policy_action():
    from referrals.policies import referral_policy

    for transition in TRANSITIONS:
        assert set(transition.moves.values()) <= set(Status)
        assert transition.by == SYSTEM or hasattr(referral_policy, f"may_{transition.by}"), transition.action


def actions(client, referral):
    response = client.get(f"/api/v1/referrals/{referral.pk}/")
    assert response.status_code == 200, response.content
    return response.json()["actions"]


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("draft", {"referrer_ccas": ["submit"], "coord_sud": None}),
        ("submitted", {"referrer_ccas": ["withdraw"], "coord_sud": ["acknowledge"], "coord_nord": None}),
        ("received", {"referrer_ccas": ["withdraw"], "coord_sud": ["assign", "transfer", "close"]}),
        ("evaluation", {"referrer_ccas": [], "coord_sud": ["reassign", "close"], "eval1_sud": []}),
        ("closed", {"referrer_ccas": [], "coord_sud": []}),
    ],
)
def test_the_api_lists_the_transitions_each_role_may_take_now(api, users, make_referral, state, expected):
    referral = make_referral(state)
    for user, wanted in expected.items():
        client = api(users[user])
        if wanted is None:  # a dossier the user may not see: 404, nothing disclosed
            assert client.get(f"/api/v1/referrals/{referral.pk}/").status_code == 404
        else:
            assert actions(client, referral) == wanted, user


def test_a_report_is_offered_for_sending_once_validated_and_decisions_once_sent(api, users, make_evaluation):
    evaluation = make_evaluation("finalized")
    coordinator = api(users["coord_sud"])
    assert "report_sent" not in actions(coordinator, evaluation.referral)

    validated = make_evaluation("validated")
    assert "report_sent" in actions(coordinator, validated.referral)

    sent = make_evaluation("sent")
    prosecutor = api(users["prosecutor_nanterre"])
    assert actions(prosecutor, sent.referral) == [
        "decision_granted",
        "decision_refused",
        "decision_info_requested",
        "decision_reserved",
    ]
    assert actions(coordinator, sent.referral) == []
    assert api(users["prosecutor_paris"]).get(f"/api/v1/referrals/{sent.referral.pk}/").status_code == 404


def test_the_dossier_page_draws_the_buttons_of_the_same_list(api, users, make_referral):
    referral = make_referral("received")
    html = api(users["coord_sud"]).get(reverse("referral-detail", args=[referral.pk])).content.decode()
    for action in ("assign", "transfer", "close"):
        assert reverse("referral-action", args=[referral.pk, action]) in html
    assert reverse("referral-action", args=[referral.pk, "acknowledge"]) not in html
