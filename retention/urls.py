from django.urls import path

from retention import views

urlpatterns = [path("dossiers/<int:pk>/conservation/", views.legal_hold, name="legal-hold")]
