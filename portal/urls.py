from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from . import views

# allauth's documented way to send the admin login through allauth.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = _("Integrations portal support")

urlpatterns = [
    path("", views.home, name="home"),
    path("organizations/switch/", views.switch_organization, name="switch_organization"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("integrations.api.urls")),
    path("", include("integrations.urls")),
]
