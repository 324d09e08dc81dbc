from integrations.urls import NAV_SECTIONS


def navigation(request):
    """Which section of the main navigation the page belongs to, from the resolved URL."""
    match = getattr(request, "resolver_match", None)
    section = NAV_SECTIONS.get(match.view_name) if match else None
    return {
        "nav_companies": section == "companies",
        "nav_accounting": section == "accounting",
        "nav_api_keys": section == "api_keys",
        "nav_branding": section == "branding",
        "nav_webhooks": section == "webhooks",
        "nav_team": section == "team",
    }
