from django.http import HttpResponseNotAllowed
from django.urls import path

from portal.tenancy import admin_required


@admin_required
def credentials_check(request):
    return HttpResponseNotAllowed(["POST"])


urlpatterns = [
    path(
        "settings/integrations/accounting/sage/check/", credentials_check, name="credentials_check"
    ),
]
