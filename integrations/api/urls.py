"""The REST API's URLs, v1 (mounted at /api/v1/ by portal/urls.py)."""

from django.urls import path, re_path

from integrations.api import docs, sync_views, views

app_name = "api"

urlpatterns = [
    path("schema/", docs.Schema.as_view(), name="schema"),
    path("docs/", docs.api_docs, name="docs"),
    path("companies", views.CompanyList.as_view(), name="company_list"),
    path("companies/<int:pk>", views.CompanyDetail.as_view(), name="company_detail"),
    path("companies/<int:pk>/link-url", views.CompanyLinkUrl.as_view(), name="company_link_url"),
    path(
        "companies/<int:pk>/connection",
        views.CompanyConnection.as_view(),
        name="company_connection",
    ),
    path(
        "companies/<int:pk>/connection/unlink",
        views.ConnectionUnlink.as_view(),
        name="connection_unlink",
    ),
    # Synced data (integrations/sync/): the data types, their records, the syncs.
    path("companies/<int:pk>/data", sync_views.CompanyDataTypes.as_view(), name="company_data"),
    path(
        "companies/<int:pk>/data/<str:type>",
        sync_views.CompanyRecords.as_view(),
        name="company_records",
    ),
    path(
        "companies/<int:pk>/data/<str:type>/<str:sage_id>",
        sync_views.CompanyRecord.as_view(),
        name="company_record",
    ),
    path("companies/<int:pk>/syncs", sync_views.CompanySyncs.as_view(), name="company_syncs"),
    re_path(
        r"^companies/(?P<pk>[0-9]+)/sage/(?P<path>.*)$",
        views.SageProxy.as_view(),
        name="sage_proxy",
    ),
    # Anything else under /api/v1/ is a problem-shaped 404, not the portal's HTML page:
    # a path with a newline in it too (`.` would not match it).
    re_path(r"^[\s\S]*$", views.not_found, name="not_found"),
]
