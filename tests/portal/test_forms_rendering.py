"""The input renderer writes exactly what Django's widget templates write."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates

from integrations.forms.credentials import CredentialsForm
from portal.forms_rendering import FastInputRenderer


class EveryInput(forms.Form):
    text = forms.CharField(
        max_length=5, widget=forms.TextInput(attrs={"autocomplete": "off", "data-x": "\"<&>'"})
    )
    secret = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), help_text="Help"
    )
    flag = forms.BooleanField(required=False)
    choice = forms.ChoiceField(
        choices=[("1", "One"), ("<2>", "<b>Two</b>")], widget=forms.RadioSelect
    )
    email = forms.EmailField(disabled=True)
    search = forms.CharField(required=False, widget=forms.SearchInput(attrs={"hidden": False}))
    hidden = forms.CharField(widget=forms.HiddenInput)
    number = forms.IntegerField(required=False)  # not an input the renderer knows: Django's


def both(data, renderer_class):
    form = EveryInput(data, initial={"text": 'a"b<c'})
    form.renderer = renderer_class()
    return form


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"text": 'x"<y>&', "secret": "pw", "flag": "on", "choice": "<2>", "hidden": "z"},
        {"text": "toolong", "choice": "nope", "number": "NaN"},  # every field in error
    ],
)
def test_every_input_renders_as_django_renders_it(data):
    django_form, fast_form = both(data, DjangoTemplates), both(data, FastInputRenderer)
    for name in EveryInput.base_fields:
        assert str(fast_form[name]) == str(django_form[name]), name
        for fast, ours in zip(
            fast_form[name].subwidgets, django_form[name].subwidgets, strict=True
        ):
            assert fast.tag() == ours.tag(), name
    assert fast_form.as_div() == django_form.as_div()


def test_values_and_attributes_are_escaped():
    form = both({"text": '"><script>x</script>'}, FastInputRenderer)
    html = str(form["text"])
    assert "<script>" not in html
    assert 'value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in html
    assert 'data-x="&quot;&lt;&amp;&gt;&#x27;"' in html


@pytest.mark.django_db
def test_the_settings_form_renders_as_django_renders_it():
    ours, theirs = CredentialsForm(), CredentialsForm()
    for form in (theirs.choice, *theirs.groups.values()):
        form.renderer = DjangoTemplates()
    for mine, django in zip(
        (ours.choice, *ours.groups.values()), (theirs.choice, *theirs.groups.values()), strict=True
    ):
        assert isinstance(mine.renderer, FastInputRenderer)
        assert mine.as_div() == django.as_div()
