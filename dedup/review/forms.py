"""Input of curator actions; the choices themselves are checked by the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from dedup.review.selectors import MERGE_FIELDS
from dedup.templatetags.review_tags import SHORT_KINDS


class ActionForm(forms.Form):
    token = forms.CharField(max_length=64)


class DismissForm(ActionForm):
    reason = forms.CharField(max_length=1000, required=False)


class SplitForm(ActionForm):
    version = forms.IntegerField()


class PairForm(forms.Form):
    version_a = forms.IntegerField()
    version_b = forms.IntegerField()


class MergeForm(ActionForm):
    authoritative = forms.IntegerField()
    reason = forms.CharField(max_length=1000, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in MERGE_FIELDS:
            self.fields[f"field_{name}"] = forms.CharField(max_length=20, required=False)
            self.fields[f"custom_{name}"] = forms.CharField(max_length=5000, required=False)
        # Versions kept as separate pictures; the service checks that they are members.
        data = args[0] if args else kwargs.get("data")
        self.kept = [int(v) for v in data.getlist("keep") if v.isdigit()] if data is not None else []

    def choices(self) -> dict[str, str]:
        return {n: self.cleaned_data[f"field_{n}"] for n in MERGE_FIELDS if self.cleaned_data[f"field_{n}"]}

    def custom(self) -> dict[str, str]:
        data = self.cleaned_data
        return {n: data[f"custom_{n}"].strip() for n in MERGE_FIELDS if data[f"field_{n}"] == "custom"}


class BulkRuleForm(forms.Form):
    """A bulk rule as a curator defines it: which match kinds qualify, up to how many versions."""

    name = forms.CharField(label=_("Name"), max_length=200)
    kinds = forms.MultipleChoiceField(
        label=_("Clusters where every version matched as"),
        choices=list(SHORT_KINDS.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    max_size = forms.IntegerField(label=_("At most this many versions (blank: any)"), min_value=2, required=False)
