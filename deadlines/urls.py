from django.urls import path

from deadlines import views

urlpatterns = [path("echeances/", views.deadline_list, name="deadline-list")]
