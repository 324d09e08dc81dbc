"""The portal's integration pages, one prefix per area.

- `settings/integrations/accounting/`: the organization's admins set up Sage.
- `settings/api-keys/`: the organization's keys for the REST API.
- `settings/branding/`: the name, logo and privacy page the customer's pages show;
  `brand/`: the logo itself (public, content-hashed).
- `settings/webhooks/`: the organization's webhook endpoints and their delivery logs.
- `settings/team/`: members, roles, invitations; `invitations/`: the invitee's pages.
- `companies/`: the organization's companies and their connections.
- `link/`: the business customer's pages before Sage (no login).
- `oauth/sage/`: where Sage sends the customer back. The callback's URL is registered
  in every client's Sage app: it never changes.
"""

from django.urls import URLPattern, URLResolver, include, path

from integrations.api_keys import views as api_keys
from integrations.branding import views as branding
from integrations.companies import views as companies
from integrations.configuration import views as configuration
from integrations.connections.live_data import LiveList
from integrations.linking import views as link
from integrations.sync import views as sync
from integrations.webhooks import views as webhooks
from portal.organizations import views as team

app_name = "integrations"

integration_settings_patterns = [
    path("", configuration.integration_settings, name="integration_settings"),
    path("enable/", configuration.integration_enable, name="integration_enable"),
    path("check/", configuration.credentials_check_view, name="credentials_check"),
    path("redirect-url/", configuration.integration_redirect_url, name="integration_redirect_url"),
    path("sync-schedule/", sync.sync_schedule, name="sync_schedule"),
]
settings_patterns: list[URLPattern | URLResolver] = [
    path("sage/", include(integration_settings_patterns)),
    path("", configuration.accounting_list, name="accounting_list"),
    path("<int:pk>/toggle/", configuration.integration_toggle, name="integration_toggle"),
]
company_patterns: list[URLPattern | URLResolver] = [
    path("", companies.company_list, name="company_list"),
    path("new/", companies.company_create, name="company_create"),
    path(
        "<int:pk>/",
        include(
            [
                path("", companies.company_detail, name="company_detail"),
                path("renew-link/", companies.company_link_renew, name="company_link_renew"),
                path(
                    "ledger-accounts/",
                    companies.company_live_list_view,
                    {"which": LiveList.LEDGER_ACCOUNTS},
                    name="company_ledger_accounts",
                ),
                path(
                    "contacts/",
                    companies.company_live_list_view,
                    {"which": LiveList.CONTACTS},
                    name="company_contacts",
                ),
                path("unlink/", companies.connection_unlink, name="connection_unlink"),
                path("data/", sync.company_data_card, name="company_data_card"),
                path("sync/", sync.company_sync, name="company_sync"),
            ]
        ),
    ),
]
# Where Sage sends the customer back (the callback's URL is registered at Sage).
sage_return_patterns = [
    path("callback/", link.oauth_callback, name="oauth_callback"),
    path("done/", link.link_done, name="link_done"),
    path("business/", link.link_business, name="link_business"),
]
# The customer's pages, no login: before Sage under link/, back from Sage under oauth/sage/.
customer_patterns = [
    path("link/<str:token>/", link.link_integrations, name="link"),
    path("link/<str:token>/<slug:platform>/", link.link_country, name="link_country"),
    path("oauth/sage/", include(sage_return_patterns)),
]
# Settings › API keys, for the platform's backend.
api_key_patterns = [
    path("", api_keys.api_key_list, name="api_key_list"),
    path("new/", api_keys.api_key_create, name="api_key_create"),
    path("<str:prefix>/revoke/", api_keys.api_key_revoke, name="api_key_revoke"),
]

# Settings › Webhooks: the platform's endpoints and their delivery logs.
webhook_patterns = [
    path("", webhooks.webhook_list, name="webhook_list"),
    path("new/", webhooks.webhook_create, name="webhook_create"),
    path("<uuid:pk>/", webhooks.webhook_detail, name="webhook_detail"),
    path("<uuid:pk>/rotate/", webhooks.webhook_rotate, name="webhook_rotate"),
    path("<uuid:pk>/delete/", webhooks.webhook_delete, name="webhook_delete"),
    path("<uuid:pk>/test/", webhooks.webhook_test, name="webhook_test"),
    path(
        "<uuid:pk>/deliveries/<uuid:delivery_pk>/resend/",
        webhooks.webhook_resend,
        name="webhook_resend",
    ),
]
# Settings › Team: members, roles, invitations, the two-factor rule.
team_patterns = [
    path("", team.team, name="team"),
    path("invite/", team.team_invite, name="team_invite"),
    path("two-factor/", team.two_factor_rule, name="two_factor_rule"),
    path("members/<int:pk>/role/", team.member_role, name="member_role"),
    path("members/<int:pk>/remove/", team.member_remove, name="member_remove"),
    path("invitations/<int:pk>/resend/", team.invitation_resend, name="invitation_resend"),
    path("invitations/<int:pk>/revoke/", team.invitation_revoke, name="invitation_revoke"),
]
# The invitee's pages, no login: the email's link, then a URL without its token.
invitation_patterns = [
    path("accept/", team.invitation_accept, name="invitation_accept"),
    path("<str:token>/", team.invitation_open, name="invitation_open"),
]


def _names(patterns) -> list[str]:
    """The URL names under `patterns`, through nested includes."""
    return [
        name
        for pattern in patterns
        for name in (
            _names(pattern.url_patterns) if hasattr(pattern, "url_patterns") else [pattern.name]
        )
    ]


# The main navigation's section of each page, read from request.resolver_match.
NAV_SECTIONS = {
    **{f"{app_name}:{name}": "accounting" for name in _names(settings_patterns)},
    **{f"{app_name}:{name}": "companies" for name in _names(company_patterns)},
    **{f"{app_name}:{name}": "api_keys" for name in _names(api_key_patterns)},
    f"{app_name}:branding": "branding",
    **{f"{app_name}:{name}": "webhooks" for name in _names(webhook_patterns)},
    **{f"{app_name}:{name}": "team" for name in _names(team_patterns)},
}

urlpatterns = [
    path("settings/integrations/accounting/", include(settings_patterns)),
    path("settings/api-keys/", include(api_key_patterns)),
    path("settings/branding/", branding.branding_settings, name="branding"),
    path(
        "brand/<int:organization_id>/<slug:version>/logo.png",
        branding.brand_logo,
        name="brand_logo",
    ),
    path("settings/webhooks/", include(webhook_patterns)),
    path("settings/team/", include(team_patterns)),
    path("invitations/", include(invitation_patterns)),
    path("companies/", include(company_patterns)),
    *customer_patterns,
]
