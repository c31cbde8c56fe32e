"""Load the demo data: people for every role, a few member organisations, applications in every
state. Each app brings its own part (see core.demo).

Running it twice changes nothing. ``--size N`` adds N more member organisations (each with its
representative's account and a membership) and N submitted applications, with set-based inserts,
for benchmarks.
"""

from django.core.management.base import BaseCommand, CommandParser

from core.demo import DemoContext, seed_demo


class Command(BaseCommand):
    help = (
        "Load demo data (idempotent). --size N adds N member organisations and N submitted "
        "applications for benchmarks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--size",
            type=int,
            default=0,
            help="Also make this many member organisations with their representatives.",
        )
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print logins.")

    def handle(self, *args, size: int, quiet_logins: bool, **options) -> None:
        seed_demo(
            DemoContext(stdout=self.stdout, style=self.style, size=size, quiet_logins=quiet_logins)
        )
