from django.db.models import Prefetch

from core.api.viewsets import TicketViewSet
from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident
from problems.models import Problem

from .serializers import IncidentSerializer


class IncidentViewSet(TicketViewSet):
    model = Incident
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilterSet
    list_select_related = (*TicketViewSet.list_select_related, "caller", "category")
    # Parent and problem are shown by number only, and loaded by a prefetch (a query only when a listed
    # incident has one): joining incidents_incident to itself and to problems makes PostgreSQL plan
    # every list query far longer than it takes to run (README, "Where the time goes").
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
