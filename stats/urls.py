from django.urls import path

from stats import views

urlpatterns = [
    path("tableau-de-bord/", views.dashboard, name="stats-dashboard"),
    path("tableau-de-bord/recensement/", views.census, name="stats-census"),
]
