from django.urls import path

from parquet.views import handover, measure, operator, prosecutor, stock

urlpatterns = [
    path("rapports-a-decider/", prosecutor.decision_inbox, name="decision-inbox"),
    path("dossiers/<int:pk>/decision/", prosecutor.decision_page, name="decision-page"),
    path("decisions/<int:decision_id>/<slug:kind>.pdf", prosecutor.decision_document, name="decision-document"),
    path("dossiers/<int:pk>/remise/", handover.handover, name="handover"),
    path("dossiers/<int:pk>/mesure/<slug:action>/", measure.measure_action, name="measure-action"),
    path("telephones/", stock.device_list, name="device-list"),
    path("telephones/<int:device_id>/", stock.device_detail, name="device-detail"),
    path("beneficiaires/", operator.sheet_list, name="sheet-list"),
    path("beneficiaires/<int:attribution_id>/", operator.sheet_detail, name="sheet-detail"),
    path("beneficiaires/<int:attribution_id>/alertes/", operator.sheet_alert, name="sheet-alert"),
    path("beneficiaires/<int:attribution_id>/fiche.pdf", operator.sheet_pdf, name="sheet-pdf"),
]
