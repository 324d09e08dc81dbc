"""The data table partial: the table when there are rows, else the empty-state paragraph."""

import pytest
from django.template import Context, Template
from django.utils import translation

TEMPLATE = Template(
    "{% load tables %}"
    '{% data_table items testid="things" empty=_("No API keys yet.") %}'
    "<tbody>{% for item in items %}<tr><td>{{ item }}</td></tr>{% endfor %}</tbody>"
    "{% enddata_table %}"
)


def test_rows_are_shown_in_the_table():
    html = TEMPLATE.render(Context({"items": ["<b>one</b>"]}))
    assert html == (
        '<div class="table-wrap">\n<table class="table table--cards" data-testid="things">'
        "<tbody><tr><td>&lt;b&gt;one&lt;/b&gt;</td></tr></tbody></table>\n</div>"
    )


@pytest.mark.parametrize(
    ("language", "words"), [("en", "No API keys yet."), ("fr", "Aucune clé d'API")]
)
def test_no_rows_is_the_empty_state_in_the_readers_language(language, words):
    with translation.override(language):
        html = TEMPLATE.render(Context({"items": []}))
    assert html.startswith('<p class="notice">')
    assert words in html.replace("&#x27;", "'")
    assert "<table" not in html
