import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import translation

from portal.models import Membership, Organization

pytest_plugins = ["tests.sandbox_fixtures"]

PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Hash test passwords quickly; production keeps Django's default hashers."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def english_by_default():
    """Start every test in English: a request in French leaves French active in its thread."""
    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture
def make_user(db):
    def make(email: str, *, password: str = PASSWORD, **extra):
        user = get_user_model().objects.create_user(
            username=email, email=email, password=password, **extra
        )
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        return user

    return make


@pytest.fixture
def make_org(db, make_user):
    """Return a factory: an organization with an admin and a member."""

    def make(name: str):
        org = Organization.objects.create(name=name)
        slug = name.lower().replace(" ", "")
        admin = make_user(f"admin@{slug}.example")
        member = make_user(f"member@{slug}.example")
        Membership.objects.create(organization=org, user=admin, role=Membership.Role.ADMIN)
        Membership.objects.create(organization=org, user=member, role=Membership.Role.MEMBER)
        org.admin, org.member = admin, member
        return org

    return make


@pytest.fixture
def org_a(make_org):
    return make_org("Alpha Ltd")


@pytest.fixture
def org_b(make_org):
    return make_org("Beta Ltd")


@pytest.fixture
def admin_client(client, org_a):
    client.force_login(org_a.admin)
    return client


@pytest.fixture
def member_client(client, org_a):
    client.force_login(org_a.member)
    return client


@pytest.fixture(autouse=True)
def _clear_cache():
    """Start each test with an empty cache: allauth's login rate limits count in it."""
    from django.core.cache import cache

    cache.clear()
