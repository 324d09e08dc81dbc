"""Re-encrypt every stored secret with the newest key of FIELD_ENCRYPTION_KEYS."""

from allauth.mfa.models import Authenticator
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from integrations.crypto import DecryptionError, current_key_id, stored_key_id
from integrations.fields import EncryptedTextField, reencrypt
from portal.organizations.adapters import MFA_SECRET_KEYS, EncryptingMFAAdapter

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
        "FIELD_ENCRYPTION_KEYS). Run it after adding a key, before dropping the old one. "
        "Rows the keys cannot decrypt are skipped and listed (ids only); the command then "
        "exits with an error."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Say what would be re-encrypted and what cannot be read; change nothing.",
        )

    def handle(self, *args, dry_run=False, **options):
        try:
            key = current_key_id()
        except DecryptionError as error:
            raise CommandError(str(error)) from None
        total, skipped = 0, []
        verb = "would be re-encrypted" if dry_run else "re-encrypted"
        for model, names in models_with_secrets():
            count, unreadable = self.rotate_model(model, names, dry_run=dry_run)
            total += count
            skipped += [(model._meta.label, pk) for pk in unreadable]
            self.stdout.write(f"{model._meta.label}: {count} row(s) {verb}")
        count, unreadable = self.rotate_authenticators(key, dry_run=dry_run)
        total += count
        skipped += [(Authenticator._meta.label, pk) for pk in unreadable]
        self.stdout.write(f"{Authenticator._meta.label}: {count} row(s) {verb}")
        for label, (pk, reason) in skipped:
            # The id and why (crypto's words name a key id at most): never a value.
            self.stderr.write(f"Skipped {label} {pk}: {reason}")
        if dry_run:
            self.stdout.write(f"Dry run: {total} row(s) would use key {key}; nothing changed.")
        else:
            self.stdout.write(self.style.SUCCESS(f"{total} row(s) now use key {key}."))
        if skipped:
            raise CommandError(
                f"{len(skipped)} row(s) could not be decrypted and were skipped (listed above): "
                "restore the key that encrypted them, or enter those secrets again. "
                "Keep the old keys until then."
            )

    def rotate_model(self, model, names, *, dry_run: bool) -> tuple[int, list]:
        count, unreadable = 0, []
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
                        unreadable.append((row.pk, str(error)))
                        continue
                    if changed:
                        count += 1
                        if not dry_run:
                            row.save(update_fields=changed)
        return count, unreadable

    def rotate_authenticators(self, key: str, *, dry_run: bool) -> tuple[int, list]:
        """Two-factor secrets (a TOTP secret, a recovery-code seed) in allauth's JSON data;
        any still in the clear are encrypted."""
        adapter = EncryptingMFAAdapter()
        count, unreadable = 0, []
        with transaction.atomic():
            for row in Authenticator.objects.select_for_update().order_by("pk"):
                data = dict(row.data)
                stale = [
                    name
                    for name in MFA_SECRET_KEYS
                    if isinstance(data.get(name), str) and stored_key_id(data[name]) != key
                ]
                try:
                    data.update(
                        {name: adapter.encrypt(adapter.decrypt(data[name])) for name in stale}
                    )
                except DecryptionError as error:
                    unreadable.append((row.pk, str(error)))
                    continue
                if stale:
                    count += 1
                    if not dry_run:
                        Authenticator.objects.filter(pk=row.pk).update(data=data)
        return count, unreadable
