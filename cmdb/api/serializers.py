"""CMDB API representations. Serializers parse and present; every write goes through cmdb.services."""

from django.urls import reverse
from rest_framework import serializers

from core.api.fields import GroupNameField, JSONObjectField, NamedRelatedField, UsernameField

from ..models import CIChange, CIClass, ConfigurationItem, Relationship, RelationshipType
from ..selectors import visible_cis


class CIBriefSerializer(serializers.ModelSerializer):
    """How other resources (tickets, impact rows, relationships) embed a CI."""

    ci_class = NamedRelatedField(slug_field="name", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = ConfigurationItem
        fields = ["id", "name", "ci_class", "status", "environment", "url"]

    def get_url(self, ci) -> str:
        return reverse("api:ci-detail", kwargs={"pk": ci.pk})


class CISerializer(serializers.ModelSerializer):
    ci_class = NamedRelatedField(slug_field="name", queryset=CIClass.objects.all())
    owner = UsernameField(required=False, allow_null=True)
    support_group = GroupNameField(required=False, allow_null=True)
    attributes = JSONObjectField(required=False)
    web_url = serializers.SerializerMethodField()

    class Meta:
        model = ConfigurationItem
        fields = [
            "id",
            "name",
            "ci_class",
            "status",
            "environment",
            "owner",
            "support_group",
            "serial_number",
            "description",
            "attributes",
            "created_at",
            "updated_at",
            "web_url",
        ]
        read_only_fields = ["id", "created_at", "updated_at", "web_url"]
        # Uniqueness and attribute validity are checked by cmdb.services (errors name the field).
        validators: list = []

    def get_web_url(self, ci) -> str:
        return ci.get_absolute_url()


class CIClassSerializer(serializers.ModelSerializer):
    ci_count = serializers.IntegerField(read_only=True, required=False)
    attribute_schema = JSONObjectField(required=False)

    class Meta:
        model = CIClass
        fields = ["id", "name", "label", "description", "attribute_schema", "ci_count"]
        validators: list = []
        extra_kwargs = {"name": {"validators": []}}


class RelationshipSerializer(serializers.ModelSerializer):
    source = serializers.PrimaryKeyRelatedField(queryset=ConfigurationItem.objects.none())
    target = serializers.PrimaryKeyRelatedField(queryset=ConfigurationItem.objects.none())
    type = serializers.ChoiceField(choices=RelationshipType.choices)
    source_ci = CIBriefSerializer(source="source", read_only=True)
    target_ci = CIBriefSerializer(source="target", read_only=True)

    class Meta:
        model = Relationship
        fields = ["id", "source", "target", "type", "source_ci", "target_ci", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # A CI the user may not see is "does not exist" here too.
            self.fields["source"].queryset = visible_cis(request.user)
            self.fields["target"].queryset = visible_cis(request.user)


class CIChangeSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name", read_only=True)

    class Meta:
        model = CIChange
        fields = [
            "id",
            "ci",
            "ci_name",
            "action",
            "field",
            "old_value",
            "new_value",
            "actor",
            "source",
            "changed_at",
        ]


class ImpactRowSerializer(serializers.Serializer):
    ci = CIBriefSerializer()
    distance = serializers.IntegerField()
    path = serializers.ListField(child=serializers.IntegerField())
    relationship_types = serializers.ListField(child=serializers.CharField())
    is_business_service = serializers.BooleanField()


class ImpactSerializer(serializers.Serializer):
    """The answer of `impact/` and `dependencies/`: every reached CI (not paginated: the depth bounds it)."""

    ci = serializers.IntegerField(help_text="The CI asked about")
    count = serializers.IntegerField()
    business_services = serializers.ListField(child=serializers.IntegerField())
    results = ImpactRowSerializer(many=True)


class GraphNodeDataSerializer(serializers.Serializer):
    id = serializers.CharField()
    label = serializers.CharField()
    ci_class = serializers.CharField()
    status = serializers.CharField()
    distance = serializers.IntegerField()
    url = serializers.CharField()
    focus = serializers.BooleanField()


class GraphNodeSerializer(serializers.Serializer):
    data = GraphNodeDataSerializer()


class GraphEdgeDataSerializer(serializers.Serializer):
    id = serializers.CharField()
    source = serializers.CharField()
    target = serializers.CharField()
    label = serializers.CharField()


class GraphEdgeSerializer(serializers.Serializer):
    data = GraphEdgeDataSerializer()


class GraphSerializer(serializers.Serializer):
    """The CI's neighbourhood in cytoscape's element format (what the CI page's graph draws)."""

    nodes = GraphNodeSerializer(many=True)
    edges = GraphEdgeSerializer(many=True)
