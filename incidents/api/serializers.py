from rest_framework import serializers

from accounts.roles import is_workspace_user
from contracts.api.serializers import CoveringContractSerializer
from contracts.selectors import covering
from core.api.fields import NamedRelatedField, UsernameField, VisibleTicketField
from core.api.serializers import TicketSerializer
from incidents.models import Category, Incident
from problems.models import Problem


class IncidentSerializer(TicketSerializer):
    caller = UsernameField(required=False, allow_null=True)
    category = NamedRelatedField(
        slug_field="name", queryset=Category.objects.filter(active=True), required=False, allow_null=True
    )
    parent = VisibleTicketField(Incident, required=False, allow_null=True)
    problem = VisibleTicketField(Problem, required=False, allow_null=True)
    contracts = serializers.SerializerMethodField()

    def get_contracts(self, incident) -> list[dict]:
        """The contracts in force covering the incident's CIs (SPEC §8), from the CIs' prefetched
        contracts (IncidentViewSet.list_prefetch_related): no query per incident. Requesters see none."""
        request = self.context.get("request")
        if request is None or not is_workspace_user(request.user):
            return []
        cis = getattr(incident, "_listed_configuration_items", None)
        if cis is None:
            cis = incident.configuration_items.all()
        return CoveringContractSerializer(
            covering(c for ci in cis for c in ci.contracts.all()), many=True
        ).data

    class Meta(TicketSerializer.Meta):
        model = Incident
        # A caller says how urgent it is for them; impact (how many are affected, and so most of the
        # priority) is the desk's call, as in ServiceNow and Jira Service Management.
        requester_writable_fields = [
            *TicketSerializer.Meta.requester_writable_fields,
            "urgency",
            "category",
        ]
        detail_only_fields = ["contracts"]  # the record's answer; a list row does not carry them
        fields = [
            *TicketSerializer.common_fields,
            # What an edit may write (the model declares it once), then what moves set, then contracts.
            *[name for name in Incident.EDITABLE_FIELDS if name not in TicketSerializer.common_fields],
            "hold_reason",
            "resolution_code",
            "resolution_notes",
            "resolved_at",
            "closed_at",
            "contracts",
        ]
        read_only_fields = [
            *TicketSerializer.common_read_only,
            "hold_reason",
            "resolution_code",
            "resolution_notes",
            "resolved_at",
            "closed_at",
        ]
