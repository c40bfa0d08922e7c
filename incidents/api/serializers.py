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

    class Meta(TicketSerializer.Meta):
        model = Incident
        # A caller says how urgent it is for them; impact (how many are affected, and so most of the
        # priority) is the desk's call, as in ServiceNow and Jira Service Management.
        requester_writable_fields = [
            *TicketSerializer.Meta.requester_writable_fields,
            "urgency",
            "category",
        ]
        fields = [
            *TicketSerializer.common_fields,
            "impact",
            "urgency",
            "caller",
            "category",
            "parent",
            "problem",
            "major",
            "hold_reason",
            "resolution_code",
            "resolution_notes",
            "resolved_at",
            "closed_at",
        ]
        read_only_fields = [
            *TicketSerializer.common_read_only,
            "hold_reason",
            "resolution_code",
            "resolution_notes",
            "resolved_at",
            "closed_at",
        ]
