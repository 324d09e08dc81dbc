from django.shortcuts import render
from django.urls import path

from portal.tenancy import member_required


@member_required
def company_list(request):
    return render(request, "integrations/company_list.html", {})


urlpatterns = [
    path("companies/", company_list, name="company_list"),
]
