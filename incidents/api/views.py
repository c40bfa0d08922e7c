from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.api.viewsets import TicketViewSet
from incidents import correlation, selectors
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
    )
    # The contracts covering the incident's CIs (SPEC §8), with their vendors: the record's answer only.
    detail_prefetch_related = ("configuration_items__contracts__vendor",)

    def get_queryset(self):
        # The stored tsvector is only for searching; loading it for every listed row costs time.
        return super().get_queryset().defer("search_vector")

    # --- correlation (SPEC §7) ---------------------------------------------------------------------
    def _correlation_answer(self) -> Response:
        """The group as it stands now: the record is read again (after a write, as that write left it)."""
        answer = correlation.correlation_of(self.get_object())
        answer.pop("head", None)
        return Response(answer)

    @extend_schema(responses={200: None})
    @action(detail=True, methods=["get"])
    def correlation(self, request, number=None):
        """The incident's group: parent number, suspected cause CI id, reason and member numbers."""
        return self._correlation_answer()

    @extend_schema(request=None, responses={200: None})
    @action(detail=True, methods=["post"], url_path="correlation/detach")
    def correlation_detach(self, request, number=None):
        """Take this child out of its major incident; it is never grouped again."""
        record = self.get_object()  # 404 before 403: a record one may not see does not exist for them
        try:
            correlation.detach(record, actor=request.user)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return self._correlation_answer()

    @extend_schema(request=None, responses={200: None})
    @action(detail=True, methods=["post"], url_path="correlation/cause")
    def correlation_cause(self, request, number=None):
        """Confirm the suspected cause (no body) or replace it: `{"suspected_cause": CI id}`."""
        record = self.get_object()
        ci = None
        raw = request.data.get("suspected_cause")
        if raw not in (None, ""):
            ci = selectors.configuration_item(raw)
            if ci is None:
                raise ValidationError({"suspected_cause": f"No CI with id {raw!r}."})
        try:
            correlation.set_cause(record, actor=request.user, ci=ci)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return self._correlation_answer()
