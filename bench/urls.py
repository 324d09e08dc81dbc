"""The portal's URLs plus the bench's baseline view, served only when the bench runs."""

from django.http import HttpResponse
from django.urls import include, path, re_path
from django.views.decorators.http import require_safe

from portal.organizations.tenancy import member_required
from portal.urls import urlpatterns as portal_urlpatterns


@require_safe
@member_required
def baseline(request):
    """Answer after the session, user and membership lookup, and nothing else.

    What every portal page pays before doing its own work.
    """
    return HttpResponse(b"ok", content_type="text/plain")


def _async_proxy():
    """Option (b)'s async proxy (bench/async_proxy.py), imported only when httpx is there."""
    try:
        from .async_proxy import async_sage_proxy
    except ImportError:  # httpx not installed: the bench reports the asgi server as failed
        return []
    return [
        re_path(
            r"^bench/async-proxy/companies/(?P<pk>[0-9]+)/sage/(?P<path>.*)$",
            async_sage_proxy,
            name="bench_async_proxy",
        )
    ]


urlpatterns = [
    *_async_proxy(),
    path("bench/baseline/", baseline, name="bench_baseline"),
    # The peer: allauth's OAuth2 login and callback for the sandbox (bench/allauth_sage).
    path("bench/allauth/", include("bench.allauth_sage.urls")),
    path("bench/allauth/social/", include("allauth.socialaccount.urls")),
    *portal_urlpatterns,
]
