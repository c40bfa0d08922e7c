"""API representations of SPEC §8. Serializers parse and present; writes go through contracts.services."""

from __future__ import annotations

from rest_framework import serializers

from cmdb.models import ConfigurationItem
from core.api.fields import NamedRelatedField, UsernameField

from ..choices import ContractType, LicenseMetric, Renewal
from ..models import Contract, ContractEvent, Installation, License, Software, Vendor


class VendorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Vendor
        fields = ["id", "name", "website", "support_email", "support_phone", "notes", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators: list = []  # uniqueness is checked by the service, case-insensitively
        extra_kwargs = {"name": {"validators": []}}


class IdField(serializers.PrimaryKeyRelatedField):
    """A record by id; an unknown id (or one past the column's range) is a 400 naming the field."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            value = int(data)
        except ValueError:
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 0 < value < 2**63:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(value)


class CIIdsField(IdField):
    """A CI by id."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", ConfigurationItem.objects.all())
        super().__init__(**kwargs)


class ContractSerializer(serializers.ModelSerializer):
    vendor = IdField(queryset=Vendor.objects.all())
    vendor_name = serializers.CharField(source="vendor.name", read_only=True)
    type = serializers.ChoiceField(choices=ContractType.choices)
    renewal = serializers.ChoiceField(choices=Renewal.choices, required=False)
    owner = UsernameField(required=False, allow_null=True)
    configuration_items = CIIdsField(many=True, required=False)
    support_contact = serializers.CharField(source="vendor.support_contact", read_only=True)
    url = serializers.SerializerMethodField()
    notice_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)

    class Meta:
        model = Contract
        fields = [
            "number",
            "url",
            "name",
            "vendor",
            "vendor_name",
            "type",
            "start_date",
            "end_date",
            "cost",
            "currency",
            "renewal",
            "notice_days",
            "configuration_items",
            "owner",
            "description",
            "support_contact",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["number", "created_at", "updated_at"]
        extra_kwargs = {"cost": {"min_value": 0}}

    def get_url(self, contract) -> str:
        return contract.get_absolute_url()

    def validate(self, attrs):
        start = attrs.get("start_date", getattr(self.instance, "start_date", None))
        end = attrs.get("end_date", getattr(self.instance, "end_date", None))
        if start and end and end < start:
            raise serializers.ValidationError(
                {"end_date": f"The end date ({end}) is before the start date ({start})."}
            )
        return attrs


class CoveringContractSerializer(serializers.ModelSerializer):
    """How a ticket lists the contracts covering its CIs (SPEC §8)."""

    vendor = serializers.CharField(source="vendor.name")
    support_contact = serializers.CharField(source="vendor.support_contact")
    support_phone = serializers.CharField(source="vendor.support_phone")
    support_email = serializers.CharField(source="vendor.support_email")

    class Meta:
        model = Contract
        fields = [
            "number",
            "name",
            "vendor",
            "type",
            "end_date",
            "support_contact",
            "support_phone",
            "support_email",
        ]


class RenewSerializer(serializers.Serializer):
    end_date = serializers.DateField()
    start_date = serializers.DateField(required=False)


class ContractEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name")

    class Meta:
        model = ContractEvent
        fields = ["id", "kind", "actor", "message", "data", "created_at"]


class SoftwareSerializer(serializers.ModelSerializer):
    class Meta:
        model = Software
        fields = ["id", "name", "publisher", "created_at"]
        read_only_fields = ["id", "created_at"]


class InstallationSerializer(serializers.ModelSerializer):
    ci_name = serializers.CharField(source="ci.name", read_only=True)

    class Meta:
        model = Installation
        fields = ["ci", "ci_name", "version", "installed_at"]


class ComplianceSerializer(serializers.Serializer):
    entitled = serializers.IntegerField()
    consumed = serializers.IntegerField()
    shortfall = serializers.IntegerField()


class ComplianceRowSerializer(ComplianceSerializer):
    software = serializers.IntegerField()
    name = serializers.CharField()
    publisher = serializers.CharField()


class LicenseSerializer(serializers.ModelSerializer):
    software = IdField(queryset=Software.objects.all())
    metric = serializers.ChoiceField(choices=LicenseMetric.choices, required=False)
    quantity = serializers.IntegerField(min_value=0)
    contract = NamedRelatedField(
        slug_field="number", queryset=Contract.objects.all(), required=False, allow_null=True
    )
    configuration_items = CIIdsField(many=True, required=False)
    users = UsernameField(many=True, required=False)

    class Meta:
        model = License
        fields = [
            "id",
            "software",
            "metric",
            "quantity",
            "contract",
            "configuration_items",
            "users",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
