"""API of SPEC §8: vendors, contracts (by number), software with installations and compliance, licenses.

Reads are scoped by contracts.selectors (requesters get 404); writes need cmdb_manager or admin and go
through contracts.services, whose ValidationErrors answer 400 naming the field.
"""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cmdb.models import ConfigurationItem

from .. import selectors, services
from ..filtersets import ContractFilterSet, LicenseFilterSet, SoftwareFilterSet, VendorFilterSet
from ..models import Contract, License, Software, Vendor
from ..permissions import ContractsPermission
from .serializers import (
    ComplianceRowSerializer,
    ComplianceSerializer,
    ContractEventSerializer,
    ContractSerializer,
    InstallationSerializer,
    LicenseSerializer,
    RenewSerializer,
    SoftwareSerializer,
    VendorSerializer,
)


class _Base(
    viewsets.GenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    permission_classes = [ContractsPermission]
    # PUT and PATCH through update(); no DELETE: contracts and licenses are history.
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False) or request.method == "PATCH"
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        instance = self.save_update(instance, dict(serializer.validated_data))
        return Response(self.get_serializer(self.reload(instance)).data)

    def partial_update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = self.reload(self.save_create(dict(serializer.validated_data)))

    def reload(self, instance):
        return self.get_queryset().get(pk=instance.pk)


class VendorViewSet(_Base):
    serializer_class = VendorSerializer
    filterset_class = VendorFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI generator has no user
            return Vendor.objects.none()
        return selectors.vendors(self.request.user).order_by("name")

    def save_create(self, data):
        return services.vendor_save(actor=self.request.user, fields=data)

    def save_update(self, instance, data):
        return services.vendor_save(actor=self.request.user, fields=data, vendor=instance)


class ContractViewSet(_Base):
    serializer_class = ContractSerializer
    filterset_class = ContractFilterSet
    lookup_field = "number"
    lookup_value_regex = "[A-Za-z]+[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI generator has no user
            return Contract.objects.none()
        return (
            selectors.contracts(self.request.user)
            .prefetch_related(Prefetch("configuration_items", queryset=ConfigurationItem.objects.only("id")))
            .order_by("end_date", "number")
        )

    def get_object(self):
        contract = selectors.get_contract(self.request.user, self.kwargs["number"])
        self.check_object_permissions(self.request, contract)
        return contract

    def save_create(self, data):
        cis = data.pop("configuration_items", None)
        return services.contract_create(actor=self.request.user, fields=data, configuration_items=cis)

    def save_update(self, instance, data):
        cis = data.pop("configuration_items", None)
        return services.contract_update(
            instance, actor=self.request.user, changes=data, configuration_items=cis
        )

    @extend_schema(request=RenewSerializer, responses=ContractSerializer)
    @action(detail=True, methods=["post"])
    def renew(self, request, number=None):
        """Renew for a new term: `{"end_date", "start_date"?}`; the renewal is in the history."""
        contract = self.get_object()
        serializer = RenewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contract = services.contract_renew(contract, actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(self.reload(contract)).data)

    @extend_schema(responses=ContractEventSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])  # the contract list's filters do not apply
    def history(self, request, number=None):
        """The contract's timeline, newest first (paginated)."""
        page = self.paginate_queryset(selectors.contract_history(self.get_object()))
        return self.get_paginated_response(ContractEventSerializer(page, many=True).data)


class SoftwareViewSet(_Base):
    serializer_class = SoftwareSerializer
    filterset_class = SoftwareFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI generator has no user
            return Software.objects.none()
        return selectors.software(self.request.user).order_by("name", "id")

    def save_create(self, data):
        return services.software_save(actor=self.request.user, fields=data)

    def save_update(self, instance, data):
        return services.software_save(actor=self.request.user, fields=data, software=instance)

    @extend_schema(responses=InstallationSerializer(many=True))
    @action(detail=True, methods=["get"])
    def installations(self, request, pk=None):
        """The title's current installations (CI id, version), paginated."""
        page = self.paginate_queryset(selectors.current_installations(self.get_object()))
        return self.get_paginated_response(InstallationSerializer(page, many=True).data)

    @extend_schema(responses=ComplianceSerializer)
    @action(detail=True, methods=["get"])
    def compliance(self, request, pk=None):
        """`{"entitled", "consumed", "shortfall"}` of the title."""
        return Response(selectors.compliance(self.get_object()))

    @extend_schema(
        operation_id="software_compliance_report",
        parameters=[
            OpenApiParameter("short", bool, description="Only titles with a shortfall."),
            OpenApiParameter("q", str, description="Titles whose name contains this text."),
        ],
        responses=ComplianceRowSerializer(many=True),
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="compliance",
        url_name="compliance-report",
        filter_backends=[],  # the report is not the software list: it takes `short` and `q` only
    )
    def compliance_report(self, request):
        """Compliance of every installed or licensed title, largest shortfall first, paginated like every
        list (`?short=true`: only titles with a shortfall; `?q=`: a name search)."""
        short = request.query_params.get("short", "")
        if short not in ("", "1", "0", "true", "false"):
            raise ValidationError({"short": ["Use true or false."]})
        only_short = short in ("1", "true")
        q = (request.query_params.get("q") or "").strip()[:200]
        page = self.paginate_queryset(selectors.ComplianceReport(only_short=only_short, q=q))
        return self.get_paginated_response(page)


class LicenseViewSet(_Base):
    serializer_class = LicenseSerializer
    filterset_class = LicenseFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI generator has no user
            return License.objects.none()
        return (
            selectors.licenses(self.request.user)
            .prefetch_related(
                Prefetch("configuration_items", queryset=ConfigurationItem.objects.only("id")), "users"
            )
            .order_by("software_id", "id")
        )

    def _save(self, data, instance=None):
        cis = data.pop("configuration_items", None)
        users = data.pop("users", None)
        return services.license_save(
            actor=self.request.user, fields=data, configuration_items=cis, users=users, license=instance
        )

    def save_create(self, data):
        return self._save(data)

    def save_update(self, instance, data):
        return self._save(data, instance)
