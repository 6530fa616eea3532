from django.urls import path

from parquet import views

urlpatterns = [
    path("rapports-a-decider/", views.decision_inbox, name="decision-inbox"),
    path("dossiers/<int:pk>/decision/", views.decision_page, name="decision-page"),
    path("decisions/<int:decision_id>/<slug:kind>.pdf", views.decision_document, name="decision-document"),
    path("dossiers/<int:pk>/remise/", views.handover, name="handover"),
    path("dossiers/<int:pk>/mesure/<slug:action>/", views.measure_action, name="measure-action"),
    path("telephones/", views.device_list, name="device-list"),
    path("telephones/<int:device_id>/", views.device_detail, name="device-detail"),
    path("beneficiaires/", views.sheet_list, name="sheet-list"),
    path("beneficiaires/<int:attribution_id>/", views.sheet_detail, name="sheet-detail"),
    path("beneficiaires/<int:attribution_id>/alertes/", views.sheet_alert, name="sheet-alert"),
    path("beneficiaires/<int:attribution_id>/fiche.pdf", views.sheet_pdf, name="sheet-pdf"),
]
