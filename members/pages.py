"""Pages that show where a person stands with the Centre (the member fee they pay, the menu's
Membership link) are kept for them (core.personalpages) under ``accounts.people.PEOPLE``: any
change of a membership, a representative, a contact or an organisation, from a service, the
admin or a command, retires them once it commits. The renewal's set-based SQL, which saves no
model, bumps it itself (``members.services.renewal``).
"""

from accounts import people

from .models import Contact, Membership, Organisation, Representative


def connect() -> None:
    people.connect(Membership, Representative, Contact, Organisation)
