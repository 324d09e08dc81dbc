from .views import companies, lifecycle, link, settings

app_name = "integrations"

urlpatterns = [
    *settings.urlpatterns,
    *companies.urlpatterns,
    *link.urlpatterns,
    *lifecycle.urlpatterns,
]
