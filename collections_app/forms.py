"""Forms for the catalogue pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from collections_app.models import Source


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(f, initial) for f in files if f]


class UploadForm(forms.Form):
    source = forms.ModelChoiceField(label=_("Source"), queryset=Source.objects.all())
    files = MultipleFileField(label=_("Images or ZIP archives"))
    metadata = forms.FileField(
        label=_("Sidecar CSV (optional)"),
        required=False,
        help_text=_("Columns: filename, identifier, title, title_zh, creator, date, description, subject, rights."),
    )


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
