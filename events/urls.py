from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("past/", views.archive, name="archive"),
    path("feed.ics", views.feed, name="feed"),
    path("my/", views.my_registrations, name="my_registrations"),
    path("registrations/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/register/", views.register, name="register"),
    path("<slug:slug>/calendar.ics", views.event_ics, name="calendar"),
]
