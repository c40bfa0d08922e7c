"""Catalog items, requests and tasks in the API (SPEC §3 field shapes)."""

from django.db import transaction
from rest_framework import serializers

from core.api.fields import GroupNameField, JSONObjectField, NamedRelatedField, UsernameField
from core.api.serializers import TicketSerializer
from requests_app.choices import VariableType
from requests_app.models import (
    CatalogCategory,
    CatalogItem,
    CatalogTaskTemplate,
    CatalogVariable,
    Request,
    Task,
)


class CatalogVariableSerializer(serializers.ModelSerializer):
    choices = serializers.ListField(child=serializers.CharField(), required=False, default=list)

    class Meta:
        model = CatalogVariable
        fields = ["name", "label", "type", "required", "choices", "help_text", "default", "order"]
        extra_kwargs = {"order": {"required": False}, "help_text": {"required": False}}

    def validate(self, attrs):
        is_choice = attrs.get("type") in (VariableType.CHOICE, VariableType.MULTI_CHOICE)
        if is_choice and not attrs.get("choices"):
            raise serializers.ValidationError({"choices": "A choice variable needs at least one choice."})
        if not is_choice and attrs.get("choices"):
            raise serializers.ValidationError({"choices": "Only choice variables have choices."})
        return attrs


class CatalogTaskSerializer(serializers.ModelSerializer):
    assignment_group = GroupNameField()

    class Meta:
        model = CatalogTaskTemplate
        fields = ["short_description", "assignment_group", "order"]
        extra_kwargs = {"order": {"required": False}}


class CatalogCategorySerializer(serializers.ModelSerializer):
    """A shelf of the catalog; `items` counts the items on it (active or not)."""

    items = serializers.IntegerField(source="item_count", read_only=True, default=0)

    class Meta:
        model = CatalogCategory
        fields = ["id", "name", "description", "icon", "order", "active", "items"]
        extra_kwargs = {"order": {"required": False}, "icon": {"required": False}}


class CatalogItemSerializer(serializers.ModelSerializer):
    """`variables` and `tasks` are lists of dicts; writing them replaces the item's lists as a whole."""

    category = NamedRelatedField(slug_field="name", queryset=CatalogCategory.objects.all())
    variables = CatalogVariableSerializer(many=True, required=False)
    tasks = CatalogTaskSerializer(many=True, required=False, source="task_templates")
    approval_group = GroupNameField(required=False, allow_null=True)
    fulfillment_group = GroupNameField(required=False, allow_null=True)

    class Meta:
        model = CatalogItem
        fields = [
            "id",
            "name",
            "category",
            "description",
            "icon",
            "variables",
            "approval",
            "approval_group",
            "tasks",
            "active",
            "fulfillment_group",
            "order",
        ]
        extra_kwargs = {"order": {"required": False}}

    def validate(self, attrs):
        approval = attrs.get("approval", getattr(self.instance, "approval", "none"))
        group = attrs.get("approval_group", getattr(self.instance, "approval_group", None))
        if approval in ("group", "manager_then_group") and group is None:
            raise serializers.ValidationError({"approval_group": "Group approval needs an approval group."})
        names = [v["name"] for v in attrs.get("variables", [])]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise serializers.ValidationError(
                {"variables": f"Duplicate variable names: {', '.join(duplicates)}."}
            )
        return attrs

    @transaction.atomic
    def create(self, validated_data):
        variables = validated_data.pop("variables", [])
        tasks = validated_data.pop("task_templates", [])
        item = CatalogItem.objects.create(**validated_data)
        self._replace(item, variables, tasks)
        return item

    @transaction.atomic
    def update(self, instance, validated_data):
        variables = validated_data.pop("variables", None)
        tasks = validated_data.pop("task_templates", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.save()
        self._replace(instance, variables, tasks)
        return instance

    def _replace(self, item, variables, tasks):
        if variables is not None:
            item.variables.all().delete()
            CatalogVariable.objects.bulk_create(
                [CatalogVariable(item=item, **{"order": (i + 1) * 10, **v}) for i, v in enumerate(variables)]
            )
        if tasks is not None:
            item.task_templates.all().delete()
            CatalogTaskTemplate.objects.bulk_create(
                [CatalogTaskTemplate(item=item, **{"order": (i + 1) * 10, **t}) for i, t in enumerate(tasks)]
            )


class TaskBriefSerializer(serializers.ModelSerializer):
    assignment_group = serializers.CharField(source="assignment_group.name", default=None)

    class Meta:
        model = Task
        fields = ["number", "short_description", "state", "assignment_group", "order"]


class RequestSerializer(TicketSerializer):
    catalog_item = serializers.PrimaryKeyRelatedField(queryset=CatalogItem.objects.filter(active=True))
    catalog_item_name = serializers.CharField(source="catalog_item.name", read_only=True)
    variables = JSONObjectField(required=False, default=dict)
    requested_for = UsernameField(required=False, allow_null=True)
    tasks = TaskBriefSerializer(many=True, read_only=True)

    class Meta(TicketSerializer.Meta):
        model = Request
        fields = [
            *TicketSerializer.common_fields,
            "catalog_item",
            "catalog_item_name",
            "variables",
            "requested_for",
            "approval_stage",
            "approved_at",
            "fulfilled_at",
            "closed_at",
            "tasks",
        ]
        read_only_fields = [
            *TicketSerializer.common_read_only,
            "approval_stage",
            "approved_at",
            "fulfilled_at",
            "closed_at",
        ]
        extra_kwargs = {"short_description": {"required": False}}
        # Ordering is what requesters do here; ordering for someone else is the service desk's job.
        requester_writable_fields = [
            *TicketSerializer.Meta.requester_writable_fields,
            "catalog_item",
            "variables",
        ]

    def validate_variables(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Give the variables as an object of name: value.")
        return value


class RequestUpdateSerializer(RequestSerializer):
    """PUT and PATCH of a request: the item and its answers are the order itself, not edited afterwards;
    its own class so that the OpenAPI schema of an update says they are read-only (and PUT requires
    nothing)."""

    catalog_item = serializers.PrimaryKeyRelatedField(read_only=True)
    variables = JSONObjectField(read_only=True)


class TaskSerializer(TicketSerializer):
    request = serializers.CharField(source="request.number", read_only=True)

    class Meta(TicketSerializer.Meta):
        model = Task
        fields = [*TicketSerializer.common_fields, "request", "order", "closed_at"]
        read_only_fields = [*TicketSerializer.common_read_only, "order", "closed_at"]
