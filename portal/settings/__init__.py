"""Settings for the integrations portal, read from the environment (django-environ).

One settings module for every environment (`DJANGO_SETTINGS_MODULE=portal.settings`),
kept in one module per concern:

- `environment`: the environment and `.env`, `BASE_DIR`, `DEBUG`, `SOURCE_ONLY`, and
  `required()` for the production secrets (no default: a bad deploy stops at start
  with a one-line message that names the missing variable);
- `base`: apps, middleware, templates, database, cache, email, languages, files, logs;
- `security`: secrets, hosts, sign-in (allauth, two-factor, invitations), headers,
  cookies, CSP, error reports;
- `accounting`: the accounting platform (Sage's URLs, the sandbox, timeouts, retries,
  live data, the way back, link URLs, the keep-alive);
- `api`: the REST API (Django REST framework, drf-spectacular);
- `webhooks`: webhook delivery;
- `sync`: the synced Sage data (issue 19);
- `tasks`: the task queue and the housekeeping interval.

The tests' environment is `tests/environment.py` (a pytest plugin).
"""

from .accounting import *  # noqa: F403
from .api import *  # noqa: F403
from .base import *  # noqa: F403
from .environment import *  # noqa: F403
from .security import *  # noqa: F403
from .sync import *  # noqa: F403
from .tasks import *  # noqa: F403
from .webhooks import *  # noqa: F403
