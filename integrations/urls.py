"""The portal's integration pages, one prefix per area.

- `settings/integrations/accounting/`: the organization's admins set up Sage.
- `companies/`: the organization's companies and their connections.
- `link/`: the business customer's pages before Sage (no login).
- `oauth/sage/`: where Sage sends the customer back. The callback's URL is registered
  in every client's Sage app: it never changes.
"""

from django.urls import include, path

from .views import companies, integrations, link

app_name = "integrations"

settings_patterns = [
    path("", integrations.accounting_list, name="accounting_list"),
    path("sage/", integrations.sage_settings, name="sage_settings"),
    path("sage/enable/", integrations.sage_enable, name="sage_enable"),
    path("sage/check/", integrations.credentials_check_view, name="credentials_check"),
    path("<int:pk>/toggle/", integrations.integration_toggle, name="integration_toggle"),
]
company_patterns = [
    path("", companies.company_list, name="company_list"),
    path("new/", companies.company_create, name="company_create"),
    path("<int:pk>/", companies.company_detail, name="company_detail"),
    path("<int:pk>/renew-link/", companies.company_link_renew, name="company_link_renew"),
    path("<int:pk>/unlink/", companies.connection_unlink, name="connection_unlink"),
]
link_patterns = [
    path("<str:token>/", link.link_integrations, name="link"),
    path("<str:token>/<slug:platform>/", link.link_country, name="link_country"),
]
oauth_patterns = [
    path("callback/", link.oauth_callback, name="oauth_callback"),
    path("business/", link.link_business, name="link_business"),
    path("done/", link.link_done, name="link_done"),
]

# The main navigation's section of each page, read from request.resolver_match.
NAV_SECTIONS = {
    **{f"{app_name}:{p.name}": "accounting" for p in settings_patterns},
    **{f"{app_name}:{p.name}": "companies" for p in company_patterns},
}

urlpatterns = [
    path("settings/integrations/accounting/", include(settings_patterns)),
    path("companies/", include(company_patterns)),
    path("link/", include(link_patterns)),
    path("oauth/sage/", include(oauth_patterns)),
]
