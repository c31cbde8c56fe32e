from django.urls import path

from . import views

app_name = "applications"

urlpatterns = [
    path("apply/", views.apply, name="apply"),
    path("apply/letter/", views.letter_template, name="letter_template"),
    path("applications/", views.application_list, name="list"),
    path("applications/<int:pk>/", views.detail, name="detail"),
    path("applications/<int:pk>/edit/", views.edit, name="edit"),
    path("applications/<int:pk>/answer/", views.answer, name="answer"),
    path("applications/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path(
        "applications/<int:pk>/documents/<int:document_pk>/",
        views.download,
        name="document",
    ),
    path(
        "applications/<int:pk>/documents/<int:document_pk>/remove/",
        views.remove_document,
        name="remove_document",
    ),
]
