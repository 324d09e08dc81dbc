"""What the browser refused because of the Content Security Policy."""


def csp_refusals(page) -> list[str]:
    """Collect, from now on, the console messages of `page` about a refusal of the policy."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return refused
