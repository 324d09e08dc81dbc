import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

COMPANIES_LINK = '<a href="/companies/" aria-current="page">'
ACCOUNTING_LINK = '<a href="/settings/integrations/accounting/" aria-current="page">'


@pytest.mark.parametrize(
    ("url_name", "current", "other"),
    [
        ("integrations:company_list", COMPANIES_LINK, ACCOUNTING_LINK),
        ("integrations:company_create", COMPANIES_LINK, ACCOUNTING_LINK),
        ("integrations:accounting_list", ACCOUNTING_LINK, COMPANIES_LINK),
        ("integrations:integration_settings", ACCOUNTING_LINK, COMPANIES_LINK),
    ],
)
def test_the_navigation_marks_the_pages_section(admin_client, url_name, current, other):
    html = admin_client.get(reverse(url_name)).content.decode()
    assert current in html
    assert other not in html
