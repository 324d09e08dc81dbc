from django.shortcuts import render

from portal.tenancy import member_required


@member_required
def company_list(request):
    return render(request, "integrations/company_list.html", {})


@member_required
def accounting_list(request):
    return render(request, "integrations/accounting_list.html", {})
