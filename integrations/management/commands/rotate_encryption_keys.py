"""Re-encrypt every stored secret with the newest key of FIELD_ENCRYPTION_KEYS."""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from integrations.crypto import DecryptionError, current_key_id
from integrations.fields import EncryptedTextField, reencrypt

BATCH = 200


def models_with_secrets():
    """Return (model, secret field names) for every model holding an EncryptedTextField."""
    for model in apps.get_models():
        names = [
            f.attname for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)
        ]
        if names:
            yield model, names


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the newest key (the first of "
        "FIELD_ENCRYPTION_KEYS). Run it after adding a key, before dropping the old one."
    )

    def handle(self, *args, **options):
        try:
            key = current_key_id()
        except DecryptionError as error:
            raise CommandError(str(error)) from None
        total = 0
        for model, names in models_with_secrets():
            count = self.rotate_model(model, names)
            total += count
            self.stdout.write(f"{model._meta.label}: {count} row(s) re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"{total} row(s) now use key {key}."))

    def rotate_model(self, model, names) -> int:
        count = 0
        pks = list(model._base_manager.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(pks), BATCH):
            # One transaction per batch, rows locked: a concurrent token refresh
            # never has its new value overwritten by the old one re-encrypted.
            with transaction.atomic():
                rows = model._base_manager.select_for_update().filter(
                    pk__in=pks[start : start + BATCH]
                )
                for row in rows.only("pk", *names):
                    try:
                        changed = reencrypt(row)
                    except DecryptionError as error:
                        raise CommandError(
                            f"{model._meta.label} {row.pk}: {error} "
                            "Nothing of this batch was changed."
                        ) from None
                    if changed:
                        row.save(update_fields=changed)
                        count += 1
        return count
