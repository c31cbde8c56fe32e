from django.urls import path

from . import views

app_name = "members"

urlpatterns = [
    path("designations/<int:pk>/accept/", views.accept, name="accept_designation"),
    path("designations/<int:pk>/decline/", views.decline, name="decline_designation"),
]
