from django.urls import path

from . import views

app_name = "members"

urlpatterns = [
    path("designations/<int:pk>/accept/", views.accept, name="accept_designation"),
    path("designations/<int:pk>/decline/", views.decline, name="decline_designation"),
    path("membership/", views.membership, name="membership"),
    path("membership/<int:pk>/resign/", views.resign, name="resign"),
    path(
        "membership/<int:pk>/resignation/withdraw/",
        views.withdraw_resignation,
        name="withdraw_resignation",
    ),
    path(
        "membership/<int:pk>/representative/",
        views.change_representative,
        name="change_representative",
    ),
    path(
        "membership/representative-changes/<int:pk>/withdraw/",
        views.withdraw_representative_change,
        name="withdraw_representative_change",
    ),
    path("membership/notices/<int:pk>/answer/", views.answer_notice, name="answer_notice"),
    path(
        "membership/dismissals/<int:pk>/respond/",
        views.respond_to_dismissal,
        name="respond_to_dismissal",
    ),
    path("membership/<int:pk>/contacts/", views.contacts, name="contacts"),
    path(
        "membership/<int:pk>/contacts/<int:contact_pk>/remove/",
        views.remove_contact,
        name="remove_contact",
    ),
    path("renewal/<str:token>/", views.renewal_notice, name="renewal_notice"),
]
