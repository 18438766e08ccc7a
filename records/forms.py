"""Forms for the records officers' pages."""

from django import forms
from django.utils.translation import gettext_lazy as _


class MarkAuthoritativeForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason (required)"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why this version is the authoritative record, e.g. the signed original scan from the registry."),
    )


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class VerifyForm(forms.Form):
    file = forms.FileField(label=_("Copy to check"), allow_empty_file=False)
