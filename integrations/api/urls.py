"""The REST API's URLs, v1 (mounted at /api/v1/ by portal/urls.py)."""

from django.urls import path, re_path

from . import views

app_name = "api"

urlpatterns = [
    path("companies", views.CompanyList.as_view(), name="company_list"),
    # Anything else under /api/v1/ is a problem-shaped 404, not the portal's HTML page.
    re_path(r"^.*$", views.not_found, name="not_found"),
]
