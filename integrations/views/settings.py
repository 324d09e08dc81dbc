from django.shortcuts import render
from django.urls import path

from portal.tenancy import member_required


@member_required
def accounting_list(request):
    return render(request, "integrations/accounting_list.html", {})


urlpatterns = [
    path("settings/integrations/accounting/", accounting_list, name="accounting_list"),
]
