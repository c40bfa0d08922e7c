"""Serializer bases shared by every ticket resource.

A ticket serializer lists users and groups by name and CIs by id (SPEC §3); `?brief=1` returns only
`Meta.brief_fields`. Serializers validate shape only: every write goes through a service.
"""

from django.urls import reverse
from rest_framework import serializers

from core.extensions import provided
from core.limits import TEXT_MAX_LENGTH
from core.models import Activity, Attachment
from core.perf.field_cache import PrebuiltFieldsMixin
from core.perf.orm import prefetched_rows
from core.selectors import can_see_all

from .fields import GroupNameField, UsernameField, VisibleCIField


class ActivitySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name", read_only=True)

    class Meta:
        model = Activity
        fields = ["id", "kind", "actor", "created_at", "public", "body", "data"]


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="actor_name", read_only=True)
    body = serializers.CharField(max_length=TEXT_MAX_LENGTH, trim_whitespace=True)
    public = serializers.BooleanField(default=True)

    class Meta:
        model = Activity
        fields = ["id", "author", "created_at", "body", "public"]
        read_only_fields = ["id", "author", "created_at"]


class AttachmentSerializer(serializers.ModelSerializer):
    content_type = serializers.CharField(source="content_type_name", read_only=True)
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True, default=None)
    download_url = serializers.SerializerMethodField()
    quarantined = serializers.BooleanField(read_only=True)
    quarantine_reason = serializers.CharField(
        read_only=True,
        help_text="Why a mail part the upload policy refused was kept aside, e.g. type not allowed",
    )

    class Meta:
        model = Attachment
        fields = [
            "id",
            "filename",
            "size",
            "content_type",
            "uploaded_by",
            "uploaded_at",
            "public",
            "download_url",
            "quarantined",
            "quarantine_reason",
        ]

    def get_download_url(self, obj) -> str:
        url = reverse("attachment-download", kwargs={"pk": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    public = serializers.BooleanField(default=True)


class TransitionSerializer(PrebuiltFieldsMixin, serializers.Serializer):
    """`{"to": state, ...fields the move needs}`; the extra fields are checked by the workflow. Its two
    fields are built once (PrebuiltFieldsMixin): every API move instantiates it."""

    to = serializers.CharField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


# The attributes a list's prefetch puts a record's related rows in (see TicketViewSet.prefetch_lookups).
LISTED_RELATIONS = {"sla_timers": "_listed_sla_timers", "configuration_items": "_listed_configuration_items"}


class ListedRelationMixin:
    """A to-many field that reads the plain list a list response's prefetch put on the record when there
    is one, else the rows a prefetch or the write itself left on the record (a create's or a move's
    answer: core.perf.orm.remember_related), else the relation (a single record's read)."""

    relation: str

    def get_attribute(self, instance):
        listed = getattr(instance, LISTED_RELATIONS[self.relation], None)
        if listed is None:
            # What `instance.<relation>.all()` would return, without building the related manager.
            listed = prefetched_rows(instance, self.relation)
        return listed if listed is not None else super().get_attribute(instance)


class ListedTimersSerializer(ListedRelationMixin, serializers.ListSerializer):
    relation = "sla_timers"


class ListedCIsField(ListedRelationMixin, serializers.ManyRelatedField):
    relation = "configuration_items"


class ExcerptField(serializers.CharField):
    """The first LIST_EXCERPT_LENGTH characters of a text, cut at a word and marked with an ellipsis."""

    LIST_EXCERPT_LENGTH = 280

    def to_representation(self, value):
        text = str(value)
        if len(text) <= self.LIST_EXCERPT_LENGTH:
            return text
        return text[: self.LIST_EXCERPT_LENGTH].rsplit(" ", 1)[0].rstrip() + "…"


class TicketSerializer(PrebuiltFieldsMixin, serializers.ModelSerializer):
    """Base for every ticket kind; subclasses extend Meta.fields with their own. Fields are built once per
    class (PrebuiltFieldsMixin): every API create, read and list instantiates these."""

    assignment_group = GroupNameField(required=False, allow_null=True)
    assigned_to = UsernameField(required=False, allow_null=True)
    opened_by = serializers.CharField(source="opened_by.username", read_only=True)
    configuration_items = ListedCIsField(child_relation=VisibleCIField(), required=False)
    url = serializers.SerializerMethodField()
    sla_timers = ListedTimersSerializer(child=provided("timer_serializer")(), read_only=True)

    common_fields = [
        "number",
        "url",
        "short_description",
        "description",
        "state",
        "priority",
        "assignment_group",
        "assigned_to",
        "opened_by",
        "opened_at",
        "updated_at",
        "version",
        "configuration_items",
        "sla_timers",
    ]
    common_read_only = ["number", "state", "priority", "opened_at", "updated_at", "version"]

    class Meta:
        brief_fields = ["number", "url", "short_description", "state", "priority"]
        # What a requester (no see-all role) may write; anything else they send is refused by name.
        requester_writable_fields = ["short_description", "description", "configuration_items"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.query_params.get("brief") in ("1", "true"):
            for name in list(self.fields):
                if name not in self.Meta.brief_fields:
                    self.fields.pop(name)
        elif getattr(self.context.get("view"), "action", None) == "list":
            # A list is for choosing a ticket: it carries the start of each description, the detail all of it,
            # so fifty tickets with long descriptions stay a page of kilobytes, not megabytes; and what only
            # working one record needs (an incident's covering contracts) is in the detail alone.
            if "description" in self.fields:
                self.fields["description"] = ExcerptField(read_only=True)
            for name in getattr(self.Meta, "detail_only_fields", ()):
                self.fields.pop(name, None)

    def adjust_prototypes(self, fields):
        # DRF drops `allow_blank` from read-only fields, so the schema would promise one of the choices
        # where the API answers "" (no hold reason yet); keep the blank choice documented.
        model_fields = {f.name: f for f in self.Meta.model._meta.get_fields() if hasattr(f, "blank")}
        for name, field in fields.items():
            model_field = model_fields.get(field.source or name)
            if isinstance(field, serializers.ChoiceField) and field.read_only and model_field is not None:
                field.allow_blank = model_field.blank

    READ_ONLY_HINTS = {
        "state": "Read-only: move the ticket with POST …/transition/.",
        "priority": "Read-only: it follows impact and urgency.",
    }

    def refuse_read_only_changes(self) -> None:
        """A read-only field sent with a value other than the record's is a 400 naming it (DRF would drop it
        and answer 200 as if it had been applied). Sending back the stored value, as a client that PUTs what
        it read does, is accepted."""
        refused = {}
        for name, sent in dict(getattr(self, "initial_data", None) or {}).items():
            field = self.fields.get(name)
            if field is None or not field.read_only:
                continue
            if self.instance is not None and self.stored_value(field) in (sent, str(sent)):
                continue
            refused[name] = self.READ_ONLY_HINTS.get(name, "This field is read-only.")
        if refused:
            raise serializers.ValidationError(refused)

    def stored_value(self, field):
        try:
            return field.to_representation(field.get_attribute(self.instance))
        except Exception:  # a value that cannot be represented again is never "the same"
            return object()

    def validate(self, attrs):
        self.refuse_read_only_changes()
        request = self.context.get("request")
        model = self.Meta.model
        if request is not None and not can_see_all(model, request.user):
            refused = sorted(
                set(self.initial_data or {}) & set(attrs) - set(self.Meta.requester_writable_fields)
            )
            if refused:
                raise serializers.ValidationError(
                    {name: "Only agents can set this field." for name in refused}
                )
        return super().validate(attrs)

    # Stands in for the number while the URL pattern is reversed once per response (see get_url).
    URL_NUMBER_PLACEHOLDER = "XXXX0000000"

    def get_url(self, obj) -> str:
        # A list serializes many rows with the same URL shape: reverse (and absolutize) once per kind and
        # substitute the number, instead of resolving the URL pattern for every row. Numbers are plain
        # letters and digits, so the substitution needs no quoting.
        templates = self.context.setdefault("_ticket_url_templates", {})
        template = templates.get(obj.KIND)
        if template is None:
            url = reverse(f"api:{obj.KIND}-detail", kwargs={"number": self.URL_NUMBER_PLACEHOLDER})
            request = self.context.get("request")
            template = templates[obj.KIND] = request.build_absolute_uri(url) if request else url
        return template.replace(self.URL_NUMBER_PLACEHOLDER, obj.number)
