from django.urls import path

from referrals import views

urlpatterns = [
    path("", views.home, name="home"),
    path("dossiers/", views.referral_list, name="referral-list"),
    path("signalements/nouveau/", views.referral_create, name="referral-create"),
    path("dossiers/<int:pk>/", views.referral_detail, name="referral-detail"),
    path("dossiers/<int:pk>/modifier/", views.referral_edit, name="referral-edit"),
    path("dossiers/<int:pk>/action/<slug:action>/", views.referral_action, name="referral-action"),
    path("dossiers/<int:pk>/pieces/", views.document_upload, name="referral-document-upload"),
    path("dossiers/<int:pk>/doublons/", views.referral_duplicate, name="referral-duplicate"),
    path("pieces/<int:pk>/telecharger/", views.document_download, name="document-download"),
]
