from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from changes.models import Change
from core.api.viewsets import TicketViewSet, etag_for
from incidents import selectors as incident_selectors
from incidents.models import Incident
from knowledge.api.serializers import ArticleSerializer
from problems import services
from problems.filtersets import ProblemFilterSet
from problems.models import Problem

from .serializers import IncidentNumbersSerializer, ProblemSerializer


class ProblemViewSet(TicketViewSet):
    model = Problem
    serializer_class = ProblemSerializer
    filterset_class = ProblemFilterSet
    list_prefetch_related = (
        *TicketViewSet.list_prefetch_related,
        Prefetch(
            "incidents", queryset=Incident.objects.only("id", "number", "problem_id").order_by("number")
        ),
        Prefetch("changes", queryset=Change.objects.only("id", "number", "problem_id").order_by("number")),
    )

    def _incidents(self, request) -> list:
        data = IncidentNumbersSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        numbers = [n.upper() for n in data.validated_data["incidents"]]
        found, missing = incident_selectors.by_numbers(request.user, numbers)
        if missing:
            raise ValidationError({"incidents": f"No such incident: {', '.join(missing)}."})
        return found

    def _apply_to_incidents(self, request, service) -> Response:
        """Link or unlink the incidents the body names (`service` is problems.services.link_incidents or
        unlink_incidents) and answer with the problem as it now is."""
        record = self.get_object()
        service(record, self._incidents(request), actor=request.user)
        record = self.get_queryset().get(pk=record.pk)
        return Response(self.get_serializer(record).data, headers={"ETag": etag_for(record)})

    @extend_schema(request=IncidentNumbersSerializer, responses=ProblemSerializer)
    @action(detail=True, methods=["post"])
    def link_incidents(self, request, number=None):
        return self._apply_to_incidents(request, services.link_incidents)

    @extend_schema(request=IncidentNumbersSerializer, responses=ProblemSerializer)
    @action(detail=True, methods=["post"])
    def unlink_incidents(self, request, number=None):
        return self._apply_to_incidents(request, services.unlink_incidents)

    @extend_schema(request=None, responses={201: dict})
    @action(detail=True, methods=["post"])
    def publish_known_error(self, request, number=None):
        """Publish the workaround as a knowledge article and answer with the article."""
        record = self.get_object()
        article = services.publish_known_error(record, actor=request.user)
        data = ArticleSerializer(article, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)
