from allauth.account.decorators import secure_admin_login
from allauth.account.models import EmailAddress
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django_tasks_db.models import DBTaskResult

from portal import views

# allauth's documented way to send the admin login through allauth.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = _("Integrations portal support")
# What support does not use: groups (roles live in memberships), allauth's email
# addresses (sign-in is by the user's email) and the task queue's results.
for unused in (Group, EmailAddress, DBTaskResult):
    if admin.site.is_registered(unused):
        admin.site.unregister(unused)

urlpatterns = [
    path("", views.home, name="home"),
    path("organizations/switch/", views.switch_organization, name="switch_organization"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("integrations.api.urls")),
    path("", include("integrations.urls")),
]

handler403 = "portal.views.permission_denied"
handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
