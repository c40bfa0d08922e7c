"""Workspace forms of contracts, vendors and licenses; the views hand the cleaned data to the services."""

from django import forms

from cmdb.models import ConfigurationItem
from core.forms import ConfigurationItemsField, UsernameFormField

from .choices import ContractType, LicenseMetric, Renewal
from .models import Contract, Vendor


class VendorForm(forms.Form):
    name = forms.CharField(max_length=200)
    website = forms.URLField(required=False)
    support_email = forms.EmailField(required=False, label="Support email")
    support_phone = forms.CharField(max_length=50, required=False, label="Support phone")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ContractForm(forms.Form):
    name = forms.CharField(max_length=200)
    vendor = forms.ModelChoiceField(queryset=Vendor.objects.order_by("name"), empty_label="Choose a vendor")
    type = forms.ChoiceField(choices=ContractType.choices)
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Start date")
    end_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="End date")
    cost = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)
    currency = forms.CharField(max_length=3, initial="EUR")
    renewal = forms.ChoiceField(choices=Renewal.choices, initial=Renewal.MANUAL)
    notice_days = forms.IntegerField(min_value=0, max_value=3650, initial=30, label="Notice period (days)")
    owner = UsernameFormField(required=False, help_text="Who is told when the notice period starts.")
    configuration_items = ConfigurationItemsField(label="Covered configuration items")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", f"The end date ({end}) is before the start date ({start}).")
        return data

    @classmethod
    def initial_for(cls, contract: Contract) -> dict:
        return {
            **{
                name: getattr(contract, name)
                for name in cls.base_fields
                if name not in ("owner", "configuration_items")
            },
            "owner": contract.owner.username if contract.owner_id else "",
            "configuration_items": contract.configuration_items.all(),
        }


class RenewForm(forms.Form):
    end_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="New end date")


class LicenseForm(forms.Form):
    metric = forms.ChoiceField(choices=LicenseMetric.choices)
    quantity = forms.IntegerField(min_value=0, label="Seats")
    contract = forms.ModelChoiceField(
        queryset=Contract.objects.order_by("number"), required=False, empty_label="No contract"
    )
    installed_on = forms.ModelMultipleChoiceField(
        queryset=ConfigurationItem.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Assign to CIs it is installed on without a license",
    )
    configuration_items = ConfigurationItemsField(
        label="Assign to other configuration items", help_text="CI ids, separated by commas."
    )

    def __init__(self, *args, unlicensed=(), **kwargs):
        """`unlicensed`: the CIs the title is installed on that no license covers, offered as checkboxes
        (the common case: seats bought for the machines that run it); other CIs go by id."""
        super().__init__(*args, **kwargs)
        cis = {ci.pk: ci for ci in unlicensed}
        if cis:
            field = self.fields["installed_on"]
            field.queryset = ConfigurationItem.objects.filter(pk__in=list(cis)).order_by("name")
            field.label_from_instance = lambda ci: ci.name
        else:
            del self.fields["installed_on"]

    def assigned_cis(self) -> list:
        """The CIs both fields name, once each (after is_valid())."""
        found = {ci.pk: ci for ci in self.cleaned_data.get("installed_on") or ()}
        found.update((ci.pk, ci) for ci in self.cleaned_data.get("configuration_items") or ())
        return list(found.values())
