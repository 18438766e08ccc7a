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
