import secrets
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager

from integrations import accounting
from integrations.accounting import ApiVersion, token_lifetime
from integrations.fields import EncryptedTextField
from integrations.redirect_urls import MAX_LENGTH as REDIRECT_URL_MAX_LENGTH
from integrations.redirect_urls import validate_redirect_url
from portal.organizations.models import Organization, OrganizationScopedQuerySet

if TYPE_CHECKING:
    from integrations.accounting import TokenSet


class IntegrationQuerySet(OrganizationScopedQuerySet["Integration"]):
    def enabled(self) -> Self:
        return self.filter(enabled=True)


class Integration(models.Model):
    class Platform(models.TextChoices):
        SAGE = "sage", "Sage Accounting"

    class SyncInterval(models.IntegerChoices):
        """The schedules offered for `sync_interval`, in minutes (0: no schedule)."""

        EVERY_15_MINUTES = 15, _("Every 15 minutes")
        HOURLY = 60, _("Every hour")
        EVERY_6_HOURS = 6 * 60, _("Every 6 hours")
        DAILY = 24 * 60, _("Every day")
        OFF = 0, _("Off: only Sync now, the API and right after a link")

        @classmethod
        def label_of(cls, minutes: int) -> str:
            """The schedule's words; a value not offered (set in the admin, say) as minutes."""
            try:
                return str(cls(minutes).label)
            except ValueError:
                return gettext("Every %(minutes)s minutes") % {"minutes": minutes}

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="integrations",
        verbose_name=_("organization"),
    )
    platform = models.CharField(
        _("platform"), max_length=20, choices=Platform.choices, default=Platform.SAGE
    )
    enabled = models.BooleanField(_("enabled"), default=False)
    new_links_api_version = models.CharField(
        _("credentials for new links"),
        max_length=3,
        choices=ApiVersion.short_choices(),
        default=accounting.DEFAULT_VERSION.value,
    )
    redirect_url = models.CharField(
        _("redirect URL"),
        max_length=REDIRECT_URL_MAX_LENGTH,
        blank=True,
        validators=[validate_redirect_url],
        help_text=_("Where the customer goes after linking, instead of the portal's page."),
    )
    # Minutes between the scheduled syncs of the linked companies' data (0: no schedule).
    sync_interval = models.PositiveIntegerField(
        _("sync every (minutes)"),
        default=60,
        help_text=_("How often the linked companies' Sage data is synced; 0 turns it off."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = IntegrationQuerySet.as_manager()

    class Meta:
        ordering = ["organization__name", "platform"]
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "platform"], name="integration_unique_platform"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} · {self.organization}"

    def chosen_credential_set(self) -> "CredentialSet | None":
        """The credential set new links use (from the prefetched sets when there are)."""
        return next(
            (s for s in self.credential_sets.all() if s.api_version == self.new_links_api_version),
            None,
        )


def mask_secret(value: str) -> str:
    """Return a secret as pages and the admin show it: dots and its last four characters."""
    return f"•••• {value[-4:]}" if value else ""


class CredentialSetQuerySet(OrganizationScopedQuerySet["CredentialSet"]):
    organization_path = "integration__organization"


class CredentialSet(models.Model):
    """The keys of one OAuth app registered with Sage, for one API version."""

    # The credential-field catalogue: which fields each API version needs, which are secret.
    FIELDS_BY_VERSION = accounting.FIELDS_BY_VERSION
    SECRET_FIELDS = ("client_secret", "signing_secret", "subscription_key")
    # Fields whose change makes Sage's last answer about the keys stale.
    CHECKED_FIELDS = ("client_id", "client_secret")

    class Check(models.TextChoices):
        """What Sage said about the client ID and secret, or why it was not asked.

        The one vocabulary of the keys check: Sage's answers (SAGE_ANSWERS) are kept on
        the set (`last_check_result`, blank: never asked); a check of keys that are
        missing or cannot be decrypted never reaches Sage (configuration/check.py).
        """

        ACCEPTED = "accepted", _("Accepted by Sage")
        REJECTED = "rejected", _("Rejected by Sage")
        UNREACHABLE = "unreachable", _("Not checked: Sage could not be reached")
        INCOMPLETE = "incomplete", _("Not checked: the client ID or secret is missing")
        UNREADABLE = "unreadable", _("Not checked: the stored secrets cannot be read")

    SAGE_ANSWERS = (Check.ACCEPTED, Check.REJECTED, Check.UNREACHABLE)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    integration = models.ForeignKey(
        Integration,
        on_delete=models.CASCADE,
        related_name="credential_sets",
        verbose_name=_("integration"),
    )
    api_version = models.CharField(
        _("API version"), max_length=3, choices=ApiVersion.short_choices()
    )
    client_id = models.CharField(_("Client ID"), max_length=255)
    client_secret = EncryptedTextField(_("Client secret"))
    signing_secret = EncryptedTextField(_("Signing secret"))
    subscription_key = EncryptedTextField(_("Subscription key"))
    last_check_result = models.CharField(
        _("last check"),
        max_length=12,
        choices=[(answer.value, answer.label) for answer in SAGE_ANSWERS],
        blank=True,
    )
    last_check_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CredentialSetQuerySet.as_manager()

    class Meta:
        ordering = ["integration", "api_version"]
        verbose_name = _("credential set")
        verbose_name_plural = _("credential sets")
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "api_version"], name="credentialset_unique_version"
            ),
            models.CheckConstraint(
                condition=Q(api_version=ApiVersion.V30.value)
                | Q(signing_secret="", subscription_key=""),
                name="credentialset_v31_has_no_v30_keys",
            ),
            # A stored set is always complete for its version, so "the chosen set is
            # complete" reduces to "the chosen set exists". That last part spans two
            # rows and is enforced by services.credentials.integration_missing_fields.
            models.CheckConstraint(
                condition=~Q(client_id="") & ~Q(client_secret=""),
                name="credentialset_has_client_keys",
            ),
            models.CheckConstraint(
                condition=Q(api_version=ApiVersion.V31.value)
                | (~Q(signing_secret="") & ~Q(subscription_key="")),
                name="credentialset_v30_has_v30_keys",
            ),
            models.CheckConstraint(
                condition=Q(api_version__in=[version.value for version in ApiVersion]),
                name="credentialset_known_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_api_version_display()} · {self.client_id}"

    @classmethod
    def field_names(cls, api_version: str) -> tuple[str, ...]:
        """The fields a set of `api_version` holds, in the order the settings page shows them."""
        return cls.FIELDS_BY_VERSION[ApiVersion(api_version)]

    @classmethod
    def field_label(cls, name: str) -> str:
        """The translated label of a credential field."""
        field = cls._meta.get_field(name)
        assert isinstance(field, models.Field)  # credential fields are columns, not relations
        return str(field.verbose_name)

    def missing_fields(self) -> list[str]:
        """The names of the fields this set still needs before it can be used."""
        return [name for name in self.field_names(self.api_version) if not self.__dict__.get(name)]

    @property
    def is_complete(self) -> bool:
        return not self.missing_fields()

    @property
    def keys_rejected(self) -> bool:
        return self.last_check_result == self.Check.REJECTED

    def forget_check(self) -> None:
        """Drop Sage's last answer: the keys it was about changed (the row is not saved)."""
        self.last_check_result = ""
        self.last_check_at = None


def new_link_token() -> str:
    return secrets.token_urlsafe(32)


def default_link_expiry() -> datetime:
    return timezone.now() + timedelta(days=settings.LINK_URL_LIFETIME_DAYS)


class CompanyQuerySet(OrganizationScopedQuerySet["Company"]):
    pass


class Company(models.Model):
    """A business customer of the organization, whose Sage company gets linked."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="companies",
        verbose_name=_("organization"),
    )
    name = models.CharField(_("name"), max_length=200)
    # The platform's own id for this customer (set through the API): unique per organization.
    external_id = models.CharField(_("external ID"), max_length=200, null=True, blank=True)
    # Set through the API: wins over the integration's redirect URL for this company.
    redirect_url = models.CharField(
        _("redirect URL"),
        max_length=REDIRECT_URL_MAX_LENGTH,
        blank=True,
        validators=[validate_redirect_url],
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    link_token = models.CharField(
        _("link token"), max_length=64, unique=True, default=new_link_token, editable=False
    )
    link_expires_at = models.DateTimeField(_("link expires"), default=default_link_expiry)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        indexes = [models.Index(fields=["organization", "name"], name="company_org_name")]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=Q(external_id__isnull=False),
                name="company_unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("integrations:company_detail", args=[self.pk])

    @property
    def link_is_valid(self) -> bool:
        return self.link_expires_at > timezone.now()


def keepalive_deadline() -> datetime:
    """Refresh tokens expiring before this are due for keep-alive (the one home of the window)."""
    return timezone.now() + timedelta(days=settings.KEEPALIVE_REFRESH_WITHIN_DAYS)


class ConnectionQuerySet(OrganizationScopedQuerySet["Connection"]):
    organization_path = "company__organization"

    def linked(self) -> Self:
        return self.filter(status=Connection.Status.LINKED)

    def due_for_keepalive(self) -> Self:
        """Linked connections whose refresh token expires within the keep-alive window."""
        return (
            self.linked()
            .filter(refresh_token_expires_at__lte=keepalive_deadline())
            .order_by("refresh_token_expires_at")
        )


class TransitionNotAllowed(Exception):
    """A connection was asked to move to a status its current one does not lead to."""


class Connection(models.Model):
    """The link between one company and its Sage business, with its tokens."""

    class Status(models.TextChoices):
        PENDING_AUTH = "PendingAuth", _("Pending authorization")
        LINKED = "Linked", _("Linked")
        DEAUTHORIZED = "Deauthorized", _("Deauthorized")
        UNLINKED = "Unlinked", _("Unlinked")

    class State(models.TextChoices):
        """One word per state: its value in the API and webhooks, its label on every page.

        `connections.states` says what each means (its sentence, actions, warnings); the
        writers of connections store the one a write leads to in `state`.
        """

        NOT_LINKED = "not_linked", _("Not linked yet")  # no trip to Sage yet (no connection)
        WAITING = "waiting", _("Waiting for the customer")  # started, not back from Sage
        CHOOSING_BUSINESS = "choosing_business", _("Choosing a business")
        CANCELLED = "cancelled", _("Cancelled")  # the customer said no at Sage
        LINK_FAILED = "link_failed", _("Link failed")
        LINKED = "linked", _("Linked")
        RELINK_REQUESTED = "relink_requested", _("Relink requested")  # support, a client ID change
        TOKENS_REFUSED = "tokens_refused", _("Relink needed")  # Sage no longer accepts the tokens
        UNLINKED = "unlinked", _("Unlinked")

    # The one table of the lifecycle: from each status, the statuses it may move to.
    # PendingAuth → PendingAuth: a new trip to Sage, or tokens waiting for a business.
    # Linked never goes back to PendingAuth: a second browser's link is refused.
    TRANSITIONS = {
        Status.PENDING_AUTH: {
            Status.PENDING_AUTH,
            Status.LINKED,
            Status.DEAUTHORIZED,
            Status.UNLINKED,
        },
        Status.LINKED: {Status.DEAUTHORIZED, Status.UNLINKED},
        Status.DEAUTHORIZED: {Status.PENDING_AUTH, Status.LINKED, Status.UNLINKED},
        Status.UNLINKED: {Status.PENDING_AUTH, Status.LINKED},
    }
    # An access token this close to its expiry is refreshed before use.
    REFRESH_MARGIN = timedelta(seconds=60)
    # When Sage gives no lifetime for an access token: its documented five minutes.
    DEFAULT_ACCESS_LIFETIME = 300

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    company = models.OneToOneField(
        Company, on_delete=models.CASCADE, related_name="connection", verbose_name=_("company")
    )
    # RESTRICT, not PROTECT: a set or integration in use cannot be deleted alone, but
    # deleting the whole organization (its companies with it) still works.
    integration = models.ForeignKey(
        Integration,
        on_delete=models.RESTRICT,
        related_name="connections",
        verbose_name=_("integration"),
    )
    credential_set = models.ForeignKey(
        CredentialSet,
        on_delete=models.RESTRICT,
        related_name="connections",
        verbose_name=_("credential set"),
        db_index=False,  # connection_set_status below starts with it
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING_AUTH
    )
    # The state in the reader's words, written with the status (or the lifecycle event)
    # that changes it by the writers of connections (`states.state_after`): lists filter,
    # count and sort on it without reading the history.
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.WAITING
    )
    country = models.CharField(_("country"), max_length=2, blank=True)
    api_version = models.CharField(
        _("API version"), max_length=3, choices=ApiVersion.short_choices()
    )
    business_id = models.CharField(_("Sage business ID"), max_length=64, blank=True)
    business_name = models.CharField(_("Sage business"), max_length=255, blank=True)
    resource_owner_id = models.CharField(_("resource owner ID"), max_length=255, blank=True)
    access_token = EncryptedTextField(_("access token"))
    refresh_token = EncryptedTextField(_("refresh token"))
    access_token_expires_at = models.DateTimeField(_("access token expires"), null=True, blank=True)
    refresh_token_expires_at = models.DateTimeField(
        _("refresh token expires"), null=True, blank=True
    )
    last_refreshed_at = models.DateTimeField(_("last refresh"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # What went wrong for a program (the API's last_error_code), set with last_error:
    # must_relink, refresh_unavailable, refresh_refused, tokens_not_saved,
    # keepalive_failed, or link_<reason> (link_access_denied, link_invalid_grant, …).
    last_error_code = models.CharField(_("last error code"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ConnectionQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("connection")
        verbose_name_plural = _("connections")
        indexes = [
            models.Index(
                fields=["status", "refresh_token_expires_at"], name="connection_keepalive"
            ),
            # The settings page counts each set's Linked connections: from this index
            # alone, however many other connections the set has.
            models.Index(fields=["credential_set", "status"], name="connection_set_status"),
        ]

    def __str__(self) -> str:
        return f"{self.company} · {self.get_status_display()}"

    @property
    def is_linked(self) -> bool:
        return self.status == self.Status.LINKED

    @property
    def refresh_expires_soon(self) -> bool:
        """Linked, and the refresh token expires within the keep-alive window."""
        expires = self.refresh_token_expires_at
        return self.is_linked and expires is not None and expires <= keepalive_deadline()

    @property
    def access_token_is_fresh(self) -> bool:
        """An access token that stays valid for more than REFRESH_MARGIN."""
        expires_at = self.access_token_expires_at
        return bool(
            self.access_token and expires_at and expires_at - timezone.now() > self.REFRESH_MARGIN
        )

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.Status(self.status)]

    def move_to(self, status: str) -> None:
        """Set the status, or raise TransitionNotAllowed (the row is not saved)."""
        if not self.can_move_to(status):
            raise TransitionNotAllowed(f"{self.status} → {status}")
        self.status = status

    def store_tokens(self, tokens: "TokenSet") -> None:
        """Keep a token answer from Sage (the row is not saved).

        An answer without a refresh token keeps the one held (Sage may send none on
        refresh); without its lifetime, the refresh token keeps its expiry.
        """
        now = timezone.now()
        self.access_token = tokens.access_token
        # token_lifetime again: a TokenSet built elsewhere must not overflow a datetime.
        lifetime = token_lifetime(tokens.expires_in) or self.DEFAULT_ACCESS_LIFETIME
        self.access_token_expires_at = now + timedelta(seconds=lifetime)
        if tokens.refresh_token:
            self.refresh_token = tokens.refresh_token
            if seconds := token_lifetime(tokens.refresh_token_expires_in):
                self.refresh_token_expires_at = now + timedelta(seconds=seconds)
        self.last_refreshed_at = now
        self.last_error = ""
        self.last_error_code = ""

    def forget_tokens(self) -> None:
        """Drop every token and its expiry (the row is not saved)."""
        self.access_token = ""
        self.refresh_token = ""
        self.access_token_expires_at = None
        self.refresh_token_expires_at = None


class AuthorizationRequestQuerySet(models.QuerySet["AuthorizationRequest"]):
    def usable(self) -> Self:
        return self.filter(consumed_at__isnull=True, expires_at__gt=timezone.now())


def default_authorization_expiry() -> datetime:
    return timezone.now() + timedelta(minutes=10)


class AuthorizationRequest(models.Model):
    """One trip to Sage's authorize page: its `state`, PKCE verifier and browser binding."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    state = models.CharField(_("state"), max_length=64, unique=True)
    code_verifier = EncryptedTextField(_("PKCE code verifier"))
    browser_binding = models.CharField(_("browser binding"), max_length=64)
    connection = models.ForeignKey(
        Connection,
        on_delete=models.CASCADE,
        related_name="authorization_requests",
        verbose_name=_("connection"),
    )
    credential_set = models.ForeignKey(
        CredentialSet,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("credential set"),
    )
    client_id = models.CharField(_("client ID at start"), max_length=255)
    country = models.CharField(_("country"), max_length=2)
    # SHA-256 of the company's link token when the trip started: a link URL renewed (or
    # expired) meanwhile refuses the callback. Empty for requests made before it existed.
    link_token_hash = models.CharField(_("link URL at start"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), default=default_authorization_expiry)
    consumed_at = models.DateTimeField(_("consumed"), null=True, blank=True)

    objects = AuthorizationRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("authorization request")
        verbose_name_plural = _("authorization requests")

    def __str__(self) -> str:
        return f"{self.connection.company} · {self.created_at:%Y-%m-%d %H:%M}"


class OrganizationAPIKeyManager(APIKeyManager["OrganizationAPIKey"]):
    def for_org(self, organization: Organization) -> "models.QuerySet[OrganizationAPIKey]":
        return self.filter(organization=organization)


class OrganizationAPIKey(AbstractAPIKey):
    """A key of the platform's backend for the REST API: acts for its organization only.

    Stored hashed (djangorestframework-api-key); the key itself is shown once. Its
    primary key holds the hash: pages and URLs name a key by its `prefix`.
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="api_keys",
        verbose_name=_("organization"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects: ClassVar[OrganizationAPIKeyManager] = OrganizationAPIKeyManager()

    class Meta:
        ordering = ("-created",)
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")


# The webhook models live in their own module; imported here so that Django registers them.
# The audit log lives in its own room; imported here so that Django registers it.
from integrations.audit.models import HistoryEvent as HistoryEvent  # noqa: E402

# The REST API's idempotency records.
from integrations.idempotency_models import IdempotentRequest as IdempotentRequest  # noqa: E402

# The synced data (issue 19), in its own sub-package.
from integrations.sync.models import SyncCursor as SyncCursor  # noqa: E402
from integrations.sync.models import SyncedRecord as SyncedRecord  # noqa: E402
from integrations.sync.models import SyncRun as SyncRun  # noqa: E402
from integrations.webhooks.models import EventSequence as EventSequence  # noqa: E402
from integrations.webhooks.models import PlatformEvent as PlatformEvent  # noqa: E402
from integrations.webhooks.models import WebhookDelivery as WebhookDelivery  # noqa: E402
from integrations.webhooks.models import WebhookEndpoint as WebhookEndpoint  # noqa: E402
from integrations.webhooks.models import WorkerHeartbeat as WorkerHeartbeat  # noqa: E402
