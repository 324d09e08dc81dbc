from django.core.management.base import BaseCommand

from integrations.services.housekeeping import expired_purge


class Command(BaseCommand):
    help = (
        "Delete authorization requests expired for over a day and expired sessions, now "
        "(the periodic task does it daily; see manage.py keepalive --schedule)."
    )

    def handle(self, *args, **options):
        result = expired_purge()
        self.stdout.write(
            f"Purged {result.authorization_requests} expired authorization requests "
            "and the expired sessions."
        )
