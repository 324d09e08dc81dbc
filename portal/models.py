from pathlib import PurePosixPath
from typing import Self

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Organization(models.Model):
    """A tenant: a platform company whose admins set up integrations."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # What the business customer sees on the link pages (Settings › Branding).
    display_name = models.CharField(
        _("display name"),
        max_length=100,
        blank=True,
        help_text=_(
            "The name your customers know you by. Leave blank to use the organization's name."
        ),
    )
    # A PNG we encoded ourselves from the admin's upload, named by its content hash:
    # served by the portal (integrations:brand_logo), never from MEDIA_URL.
    logo = models.FileField(_("logo"), upload_to="logos/", blank=True, max_length=200)
    privacy_url = models.URLField(_("privacy page"), max_length=500, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name

    @property
    def public_name(self) -> str:
        """The name the business customer sees: the display name, else the name."""
        return self.display_name or self.name

    @property
    def logo_version(self) -> str:
        """The logo's content hash (its file name): changes whenever the logo does."""
        return PurePosixPath(self.logo.name or "").stem if self.logo else ""


class MembershipQuerySet(models.QuerySet):
    def for_user(self, user) -> "MembershipQuerySet":
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user, user__is_active=True)


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        MEMBER = "member", _("Member")

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("organization"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["organization__name"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.get_role_display()})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class OrganizationScopedQuerySet[M: models.Model](models.QuerySet[M]):
    """Base queryset for tenant data: always go through `for_org`.

    Subclasses set `organization_path` when the organization is not a direct
    foreign key (e.g. "company__organization").
    """

    organization_path = "organization"

    def for_org(self, organization: Organization) -> Self:
        if organization is None:
            return self.none()
        return self.filter(**{self.organization_path: organization})
