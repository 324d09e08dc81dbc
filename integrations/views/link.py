from django.http import HttpResponseBadRequest
from django.urls import path


def oauth_callback(request):
    return HttpResponseBadRequest("Not implemented yet")


urlpatterns = [
    path("oauth/sage/callback/", oauth_callback, name="oauth_callback"),
]
