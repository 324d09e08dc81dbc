"""Where a `next` parameter may send the user: a path of this site, nothing else."""

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def local_path_or(request: HttpRequest, target: object, default: str) -> str:
    """Return `target` if it is a path on this site ("/..."), else `default`.

    Anything else is ignored: another host, a scheme, "//host", and words such as
    "0" that `redirect()` would try to reverse as a URL name.
    """
    if (
        isinstance(target, str)
        and target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return default
