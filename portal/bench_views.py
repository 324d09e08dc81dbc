"""The benchmark's baseline: what every portal page pays before doing its own work."""

from django.http import HttpResponse
from django.views.decorators.http import require_safe

from .tenancy import member_required


@require_safe
@member_required
def baseline(request):
    """Answer after the session, user and membership lookup, and nothing else."""
    return HttpResponse(b"ok", content_type="text/plain")
