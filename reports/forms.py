"""Forms for the reports app."""

from django import forms
from django.utils.translation import gettext_lazy as _


class LegalHoldForm(forms.Form):
    version = forms.IntegerField(label=_("Version number"), min_value=1)
    hold = forms.TypedChoiceField(
        label=_("Action"),
        choices=[("1", _("Place a legal hold")), ("0", _("Lift the legal hold"))],
        coerce=lambda value: value == "1",
    )
    reason = forms.CharField(label=_("Reason"), max_length=1000)
