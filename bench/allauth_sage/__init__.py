"""A minimal django-allauth OAuth2 provider for the Sage sandbox: the bench's peer callback.

Bench code only (installed by bench/settings.py): allauth's own OAuth2 callback
against the same sandbox, so that the CPU per callback of ours can be put side
by side with that of a widely used implementation.
"""
