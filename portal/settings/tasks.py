"""The task queue (django.tasks) and the periodic jobs' intervals."""

from .base import INSTALLED_APPS
from .environment import env

HOUSEKEEPING_INTERVAL_HOURS = env.float("HOUSEKEEPING_INTERVAL_HOURS", default=24.0)

# The task queue: rows in the database by default (`manage.py db_worker`), or Redis
# through RQ with TASKS_BACKEND=django_tasks_rq.RQBackend (`manage.py rqworker`), at
# RQ_REDIS_URL. See docs/worker.md.
TASKS_BACKEND = env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend")
TASKS = {"default": {"BACKEND": TASKS_BACKEND}}
RQ_QUEUES = {"default": {"URL": env.str("RQ_REDIS_URL", default="redis://127.0.0.1:6379/0")}}
# RQ's workers must build django-tasks-rq's jobs: `rqworker` then needs no --job-class.
RQ = {"JOB_CLASS": "django_tasks_rq.Job"}
# The support admin shows no task queue (portal/urls.py hides the database's too),
# and so serves none of django-rq's dashboard or statistics URLs.
RQ_SHOW_ADMIN_LINK = False
if TASKS_BACKEND == "django_tasks_rq.RQBackend":
    # rqworker, and the backend's checks (added to base's list, whatever the import order).
    INSTALLED_APPS.extend(["django_rq", "django_tasks_rq"])
