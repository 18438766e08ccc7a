"""Forms for the records standards exports: a PREMIS date range and a BagIt selection."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from records.bagit_export import BagSelection

MAX_IDENTIFIERS = 1000


class DateRangeForm(forms.Form):
    start = forms.DateField(label=_("From (inclusive)"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To (inclusive)"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data


class BagSelectionForm(forms.Form):
    search = forms.CharField(
        label=_("Catalogue search"),
        max_length=200,
        required=False,
        help_text=_("The items the catalogue's search finds for these words, as on the Catalogue page."),
    )
    source = forms.CharField(label=_("Source"), max_length=200, required=False)
    uploaded_from = forms.DateField(
        label=_("Uploaded from (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    uploaded_to = forms.DateField(
        label=_("Uploaded to (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    identifiers = forms.CharField(
        label=_("Item identifiers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One identifier or accession number a line."),
    )

    def clean_identifiers(self) -> tuple[str, ...]:
        lines = tuple(dict.fromkeys(line.strip() for line in re.split(r"[\r\n]+", self.cleaned_data["identifiers"])))
        lines = tuple(line for line in lines if line)
        if len(lines) > MAX_IDENTIFIERS:
            raise forms.ValidationError(_("At most %(n)d identifiers at a time.") % {"n": MAX_IDENTIFIERS})
        return lines

    def clean(self):
        data = super().clean()
        start, end = data.get("uploaded_from"), data.get("uploaded_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date is after the end date."))
        chosen = data.get("search", "").strip() or data.get("source") or start or end or data.get("identifiers")
        if not self.errors and not chosen:
            raise forms.ValidationError(_("Choose a search, a source, a date range or some item identifiers."))
        return data

    def selection(self) -> BagSelection:
        data = self.cleaned_data
        return BagSelection(
            source=data["source"].strip(),
            uploaded_from=data["uploaded_from"],
            uploaded_to=data["uploaded_to"],
            identifiers=data["identifiers"],
            search=data["search"].strip(),
        )
