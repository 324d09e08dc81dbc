from django.core.management.base import BaseCommand

from integrations.tasks import (
    housekeeping_schedule_next,
    keepalive_pass,
    keepalive_schedule_next,
    sync_schedule_next,
    webhooks_schedule_next,
)


class Command(BaseCommand):
    help = (
        "Refresh, now, the Sage connections whose refresh token expires within "
        "KEEPALIVE_REFRESH_WITHIN_DAYS. With --schedule, also start the periodic keep-alive, "
        "the daily purge of expired authorization requests and sessions, and the webhook sweep "
        "on the task worker "
        "(manage.py db_worker, or rqworker with the Redis backend)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--schedule",
            action="store_true",
            help="Enqueue the periodic keep-alive task (no-op when one is already queued).",
        )

    def handle(self, *args, schedule, **options):
        # `.call()` runs the pass here, in this process, whatever the backend.
        result = keepalive_pass.call()
        self.stdout.write(
            "Keep-alive pass: {refreshed} refreshed, {deauthorized} deauthorized, "
            "{failed} failed, {busy} busy, "
            "{not_processed} could not be processed, {skipped} no longer due.".format(**result)
        )
        if schedule:
            housekeeping_schedule_next()
            webhooks_schedule_next()
            sync_schedule_next()
            if keepalive_schedule_next():
                self.stdout.write(
                    "Periodic keep-alive scheduled; run the task worker (manage.py db_worker, "
                    "or manage.py rqworker --with-scheduler with the Redis backend)."
                )
            else:
                self.stdout.write(
                    "Periodic keep-alive not scheduled: already queued, or the task backend "
                    "cannot defer tasks."
                )
