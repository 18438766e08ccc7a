"""Forms for the catalogue pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from collections_app.models import Source


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class UploadForm(forms.Form):
    source = forms.ModelChoiceField(label=_("Source"), queryset=Source.objects.all())
    # An empty file gets past the form so that the upload service refuses it by name, as the API does,
    # and the other files of the same upload are still stored.
    files = MultipleFileField(
        label=_("Images or ZIP archives"),
        allow_empty_file=True,
        error_messages={"required": _("Choose at least one file to upload.")},
    )
    metadata = forms.FileField(
        label=_("Sidecar CSV (optional)"),
        required=False,
        help_text=_("Columns: filename, identifier, title, title_zh, creator, date, description, subject, rights."),
    )
