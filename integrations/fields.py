"""`EncryptedTextField`: a secret stored encrypted, bound to its row and field.

The column holds ciphertext only. On the instance the attribute reads as the
plaintext (decrypted on access, with the row's primary key and the field's name
as associated data); assigning plaintext marks it for encryption at save time.
Models using it need a primary key known before the first save (a UUID).
"""

from django.db import models

from integrations import crypto


class Ciphertext(str):
    """A value as read from the database: encrypted, not yet decrypted."""


def associated_data(instance, field) -> str:
    return f"{instance._meta.label_lower}.{field.name}:{instance.pk}"


class _EncryptedDescriptor:
    def __init__(self, field):
        self.field = field

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = instance.__dict__.get(self.field.attname, "")
        if isinstance(value, Ciphertext):
            return crypto.decrypt(value, associated_data=associated_data(instance, self.field))
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value if value is not None else ""


class EncryptedTextField(models.TextField):
    """Stores `crypto.encrypt(...)` output; empty stays empty ("not set")."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only=private_only)
        setattr(cls, self.attname, _EncryptedDescriptor(self))

    def from_db_value(self, value, expression, connection):
        return Ciphertext(value) if value else ""

    def pre_save(self, model_instance, add):
        value = model_instance.__dict__.get(self.attname, "")
        if value and not isinstance(value, Ciphertext):
            value = Ciphertext(
                crypto.encrypt(value, associated_data=associated_data(model_instance, self))
            )
            model_instance.__dict__[self.attname] = value
        return value

    def value_from_object(self, obj):
        # Serializers and the admin's change history see only what is stored.
        return obj.__dict__.get(self.attname, "")

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value and not isinstance(value, Ciphertext):
            raise ValueError("EncryptedTextField values are encrypted in pre_save; got plaintext.")
        return value


def _stored_secrets(instance):
    """Each EncryptedTextField of `instance`, with the value as stored (ciphertext or "")."""
    for field in instance._meta.concrete_fields:
        if isinstance(field, EncryptedTextField):
            yield field, instance.__dict__.get(field.attname, "")


def reencrypt(instance) -> list[str]:
    """Re-encrypt every secret of `instance` with the newest key; return the changed fields."""
    changed = []
    for field, stored in _stored_secrets(instance):
        if stored and crypto.stored_key_id(stored) != crypto.current_key_id():
            setattr(instance, field.attname, getattr(instance, field.attname))
            changed.append(field.attname)
    return changed


def unreadable_fields(instance) -> list[str]:
    """Return the names of `instance`'s stored secrets the current keys cannot decrypt."""
    names = []
    for field, stored in _stored_secrets(instance):
        if not isinstance(stored, Ciphertext):
            continue
        try:
            crypto.decrypt(stored, associated_data=associated_data(instance, field))
        except crypto.DecryptionError:
            names.append(field.attname)
    return names
