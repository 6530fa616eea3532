from django.urls import path

from cidff import views

urlpatterns = [
    path("dossiers/<int:pk>/evaluation/commencer/", views.evaluation_start, name="evaluation-start"),
    path("evaluations/<int:evaluation_id>/", views.evaluation_edit, name="evaluation-edit"),
    path("evaluations/<int:evaluation_id>/seconde-lecture/", views.evaluation_review, name="evaluation-review"),
    path(
        "evaluations/<int:evaluation_id>/seconde-lecture/<slug:action>/",
        views.evaluation_action,
        name="evaluation-action",
    ),
    path("evaluations/<int:evaluation_id>/addenda/", views.evaluation_addendum, name="evaluation-addendum"),
    path("evaluations/<int:evaluation_id>/rapport.pdf", views.evaluation_report, name="evaluation-report"),
]
