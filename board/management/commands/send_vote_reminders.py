from django.core.management.base import BaseCommand

from board import services


class Command(BaseCommand):
    help = "Email directors who have not voted on a vote whose deadline is within 48 hours."

    def handle(self, *args, **options) -> None:
        sent = services.send_vote_reminders()
        self.stdout.write(f"{sent} reminder(s) sent.")
