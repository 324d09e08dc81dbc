from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    """Organizations, memberships, invitations, tenancy and the team pages.

    The label stays "portal" so that the tables (portal_organization, ...) and the
    migration history stay as they were when this app was the project package.
    """

    name = "portal.organizations"
    label = "portal"
    verbose_name = _("Portal")

    def ready(self) -> None:
        from portal import checks  # noqa: F401  (registers the project's system checks)
