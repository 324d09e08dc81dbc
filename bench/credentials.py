"""The Sage client of the bench's organizations (bench/seed.py), also allauth's peer's."""

CLIENT_ID = "bench-client-id"
CLIENT_SECRET = "bench-client-secret-0123456789"  # noqa: S105 - the sandbox's, open registration
