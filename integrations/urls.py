from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("companies/", views.company_list, name="company_list"),
    path("settings/integrations/accounting/", views.accounting_list, name="accounting_list"),
]
