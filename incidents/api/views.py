from django.db.models import Prefetch

from core.api.viewsets import TicketViewSet
from incidents import services
from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident
from problems.models import Problem

from .serializers import IncidentSerializer


class IncidentViewSet(TicketViewSet):
    model = Incident
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilterSet
    create_service = services.incident_create
    list_select_related = (*TicketViewSet.list_select_related, "caller", "category")
    # Parent and problem are shown by number only, and loaded by a prefetch (a query only when a listed
    # incident has one): joining incidents_incident to itself and to problems made PostgreSQL spend ~25 ms
    # planning every list query against ~2 ms without those joins.
    list_prefetch_related = (
        *TicketViewSet.list_prefetch_related,
        Prefetch("parent", queryset=Incident.objects.only("id", "number")),
        Prefetch("problem", queryset=Problem.objects.only("id", "number")),
        # The contracts covering the incidents' CIs (SPEC §8), with their vendors: two queries per list.
        "configuration_items__contracts__vendor",
    )

    def get_queryset(self):
        # The stored tsvector is only for searching; loading it for every listed row costs time.
        return super().get_queryset().defer("search_vector")

    def perform_update_service(self, record, data, version):
        cis = data.pop("configuration_items", None)
        return services.incident_update(
            record, actor=self.request.user, changes=data, expected_version=version, configuration_items=cis
        )

    def perform_transition(self, record, to, fields, note, version):
        return services.incident_transition(
            record, to=to, actor=self.request.user, fields=fields, note=note, expected_version=version
        )
