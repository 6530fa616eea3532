"""/api/v1/ — the binding contract of DESIGN.md."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.api import MeView, OrganisationListView, TokenView, UserListView
from cidff.api import EvaluationViewSet, InstrumentViewSet
from core.api import Router
from deadlines.api import DeadlineViewSet
from notifications.api import NotificationViewSet
from parquet.api import AlertViewSet, AttributionViewSet, DecisionViewSet, DeviceViewSet
from referrals.api import DocumentViewSet, ReferralViewSet
from stats.api import StatsCensusView, StatsSummaryView

router = Router()  # numeric ids in detail routes
router.register("referrals", ReferralViewSet, basename="api-referral")
router.register("documents", DocumentViewSet, basename="api-document")
router.register("notifications", NotificationViewSet, basename="api-notification")
router.register("deadlines", DeadlineViewSet, basename="api-deadline")
router.register("instruments", InstrumentViewSet, basename="api-instrument")
router.register("evaluations", EvaluationViewSet, basename="api-evaluation")
router.register("decisions", DecisionViewSet, basename="api-decision")
router.register("devices", DeviceViewSet, basename="api-device")
router.register("attributions", AttributionViewSet, basename="api-attribution")
router.register("alerts", AlertViewSet, basename="api-alert")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("auth/me/", MeView.as_view(), name="api-me"),
    path("organisations/", OrganisationListView.as_view(), name="api-organisations"),
    path("users/", UserListView.as_view(), name="api-users"),
    path("stats/summary/", StatsSummaryView.as_view(), name="api-stats-summary"),
    path("stats/census/", StatsCensusView.as_view(), name="api-stats-census"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include(router.urls)),
]
