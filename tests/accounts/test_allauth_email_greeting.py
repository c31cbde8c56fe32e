"""allauth's emails speak for the Centre, not for whatever host served the page."""

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("prefix", "greeting", "signature"),
    [
        ("", "Hello,", "The International Centre for the Prevention of Crime"),
        ("/fr", "Bonjour,", "Le Centre international pour la prévention de la criminalité"),
    ],
)
def test_the_password_reset_email_names_the_centre_not_the_host(
    client, mailoutbox, prefix, greeting, signature
):
    person = factories.UserFactory(email="amara@example.org")

    client.post(
        prefix + reverse("account_reset_password"), {"email": person.email}, HTTP_HOST="127.0.0.1"
    )

    (message,) = mailoutbox
    assert message.body.startswith(greeting)
    assert signature in message.body
    assert "127.0.0.1" not in message.body.split("http", 1)[0]  # only in the link itself
    assert "Hello from" not in message.body and "Thank you for using" not in message.body
