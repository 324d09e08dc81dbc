import hashlib
from datetime import datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


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
    # One origin a line (https://app.example.com): when any, the redirect URLs of the
    # organization's integration and companies must use one of them.
    redirect_origins = models.TextField(_("allowed redirect origins"), blank=True)
    # Where the customer's pages send them back when no redirect URL is set.
    website_url = models.URLField(_("website"), max_length=500, blank=True)
    require_two_factor_for_admins = models.BooleanField(
        _("require two-factor sign-in for admins"),
        default=False,
        help_text=_("Admins must set up an authenticator app before they can use the portal."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name

    @property
    def allowed_redirect_origins(self) -> list[str]:
        """The origins its redirect URLs may use; empty: any."""
        return self.redirect_origins.split()

    @property
    def public_name(self) -> str:
        """The name the business customer sees: the display name, else the name."""
        return self.display_name or self.name

    @property
    def logo_version(self) -> str:
        """The logo's content hash (its file name): changes whenever the logo does."""
        return PurePosixPath(self.logo.name or "").stem if self.logo else ""


class MembershipQuerySet(models.QuerySet["Membership"]):
    def for_user(self, user: "User | AnonymousUser") -> "MembershipQuerySet":
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user, user__is_active=True)

    def admin_emails(self, organization: Organization) -> list[str]:
        """The email addresses of the organization's active admins: whom a member asks,
        whom the portal tells when something of the organization's needs them."""
        return list(
            self.filter(organization=organization, role=Membership.Role.ADMIN)
            .filter(user__is_active=True)
            .exclude(user__email="")
            .order_by("user__email")
            .values_list("user__email", flat=True)
        )


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


def invitation_token_hash(token: str) -> str:
    """The stored form of an invitation token (the token itself is only in the email)."""
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(OrganizationScopedQuerySet["Invitation"]):
    def usable(self, now: datetime | None = None) -> Self:
        """Neither accepted, revoked nor expired."""
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now or timezone.now()
        )

    def by_token(self, token: str) -> Self:
        return self.filter(token_hash=invitation_token_hash(token))


class Invitation(models.Model):
    """An email invitation to join an organization with a role; its link works once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("organization"),
    )
    email = models.EmailField(_("email"))
    role = models.CharField(
        _("role"), max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    # SHA-256 of the token: a leaked table row cannot be turned back into a link.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    language = models.CharField(_("language"), max_length=10, default="en")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.email} → {self.organization} ({self.get_role_display()})"

    @property
    def status(self) -> "Invitation.Status":
        if self.accepted_at is not None:
            return self.Status.ACCEPTED
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING

    @property
    def is_usable(self) -> bool:
        return self.status == self.Status.PENDING
