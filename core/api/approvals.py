"""`/api/v1/approvals/`: the signed-in user's approvals, with approve/reject actions (SPEC §5)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core import approvals as approval_services
from core.approvals import Approval


class ApprovalSerializer(serializers.ModelSerializer):
    approver = serializers.CharField(source="approver.username", read_only=True)
    record = serializers.SerializerMethodField()
    group = serializers.CharField(source="group.name", read_only=True, default=None)

    class Meta:
        model = Approval
        fields = [
            "id",
            "record",
            "approver",
            "group",
            "stage",
            "state",
            "comment",
            "requested_at",
            "decided_at",
        ]

    def get_record(self, obj) -> dict:
        record = obj.record
        return {
            "kind": getattr(record, "KIND", obj.content_type.model),
            "number": getattr(record, "number", None),
            "short_description": getattr(record, "short_description", str(record)),
            "state": getattr(record, "state", None),
        }


class DecisionSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ApprovalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Only the caller's own approvals exist here: anybody else's is a 404."""

    serializer_class = ApprovalSerializer
    queryset = Approval.objects.none()  # the schema generator's model hint; get_queryset scopes to the caller
    filterset_fields = ["state", "stage"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Approval.objects.none()
        return (
            Approval.objects.filter(approver=self.request.user)
            .select_related("approver", "group", "content_type")
            .prefetch_related("record")
        )

    def _decide(self, request, approve: bool):
        approval = approval_services.get_for_approver(request.user, self.kwargs["pk"])
        decision = DecisionSerializer(data=request.data)
        decision.is_valid(raise_exception=True)
        approval = approval_services.decide(
            approval, actor=request.user, approve=approve, comment=decision.validated_data["comment"]
        )
        return Response(ApprovalSerializer(approval).data)

    @extend_schema(request=DecisionSerializer, responses=ApprovalSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, approve=True)

    @extend_schema(request=DecisionSerializer, responses=ApprovalSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, approve=False)
