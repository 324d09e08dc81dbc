"""Live data of a linked company, read through the Sage API client (issue 5 fills this in)."""


def company_live_data(*, connection):
    """Return what the company page shows live for `connection`, or None."""
    return None
