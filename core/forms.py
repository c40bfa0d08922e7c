"""Forms shared by every ticket kind's web pages (see core.ticket_views).

Forms validate shape only; the services (core.services and each app's services.py) decide what is allowed
and raise ValidationErrors naming the field, which the views attach next to that field.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q

from accounts.models import AssignmentGroup
from accounts.roles import AGENT
from core.limits import TEXT_MAX_LENGTH
from core.numbers import parse_id
from core.pickers import PickModelChoiceField, ci_value, picker

from .models import TicketBase

VISIBILITY_CHOICES = [("public", "Public comment"), ("internal", "Work note (internal)")]


def agent_users():
    """Users who can be assigned work: active agents (admins included through their role groups)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[AGENT, "admin"])
        .distinct()
        .order_by("username")
    )


class UsernameFormField(forms.CharField):
    """A user addressed by username, picked by name as you type (core.pickers): callers can be any of
    thousands of users, so no <select>."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 150)
        kwargs.setdefault("widget", picker("user"))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        user = get_user_model().objects.filter(username=value.strip(), is_active=True).first()
        if user is None:
            raise ValidationError(
                f"No active user named {value.strip()!r}: pick one from the list as you type."
            )
        return user


CI_WITH_CLASS = re.compile(r"^(?P<name>.+?)\s*\((?P<ci_class>[^()]+)\)$")


def split_names(value: str) -> list[str]:
    """Comma- (or line-) separated names, in order, without repeats or blanks; a run of bare numbers
    separated by spaces ("12 40", the old way of giving CI ids) counts as several."""
    tokens: list[str] = []
    for part in re.split(r"[,\n]+", value or ""):
        part = part.strip()
        if re.fullmatch(r"\d+(\s+\d+)+", part):
            tokens.extend(part.split())
        elif part:
            tokens.append(part)
    return list(dict.fromkeys(tokens))


def resolve_cis(tokens: list[str]) -> tuple[list, list[str]]:
    """(CIs, problems) for CIs written as the picker writes them, "webshop (Application)", or by a name
    unique across classes, or by id (what API-minded users typed before the picker). One query."""
    ConfigurationItem = apps.get_model("cmdb", "ConfigurationItem")  # noqa: N806  (cmdb builds on core)
    condition = Q()
    for token in tokens:
        pk = parse_id(token)
        if pk is not None:
            condition |= Q(pk=pk)
            continue
        condition |= Q(name=token)
        match = CI_WITH_CLASS.match(token)
        if match:
            name, ci_class = match["name"].strip(), match["ci_class"].strip()
            condition |= Q(name=name) & (Q(ci_class__label__iexact=ci_class) | Q(ci_class__name=ci_class))
    candidates = (
        list(ConfigurationItem.objects.filter(condition).select_related("ci_class")) if tokens else []
    )
    found, problems = [], []
    for token in tokens:
        pk = parse_id(token)
        if pk is not None:
            matches = [ci for ci in candidates if ci.pk == pk]
        else:
            matches = [ci for ci in candidates if ci.name == token]
            match = CI_WITH_CLASS.match(token)
            if not matches and match:
                name, ci_class = match["name"].strip(), match["ci_class"].strip().lower()
                matches = [
                    ci
                    for ci in candidates
                    if ci.name == name and ci_class in (ci.ci_class.label.lower(), ci.ci_class.name)
                ]
        if not matches:
            problems.append(f"no CI {token!r}")
        elif len(matches) > 1:
            classes = ", ".join(sorted(ci.ci_class.label or ci.ci_class.name for ci in matches))
            problems.append(
                f"several CIs are named {token!r} ({classes}): pick the one you mean from the list"
            )
        elif matches[0] not in found:
            found.append(matches[0])
    return found, problems


class ConfigurationItemsField(forms.CharField):
    """CIs picked by name as you type ("webshop (Application), db-01 (Server)"): a <select> of 100,000
    CIs is not usable, and ids mean nothing to a person."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 5000)
        kwargs.setdefault("widget", picker("ci", multiple=True))
        kwargs.setdefault("help_text", "Type a CI's name and pick it; several are separated by commas.")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if hasattr(value, "select_related"):
            value = value.select_related("ci_class")
        elif hasattr(value, "all"):
            value = value.all().select_related("ci_class")
        if isinstance(value, list | tuple | set) or hasattr(value, "query"):
            return ", ".join(ci_value(item) if hasattr(item, "ci_class") else str(item) for item in value)
        return value

    def clean(self, value):
        value = super().clean(value)
        found, problems = resolve_cis(split_names(value))
        if problems:
            raise ValidationError(f"Not understood: {'; '.join(problems)}.")
        return found


class VersionedFormMixin(forms.Form):
    """A hidden `version`: the record's version when the form was rendered (the web If-Match).

    The view passes it to the service as `expected_version`; a mismatch raises StaleVersion and the page
    says the record was changed by someone else instead of silently overwriting their change.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


class TicketForm(VersionedFormMixin, forms.ModelForm):
    """Base of every ticket kind's create/edit form: the assignment pair, picked by name as you type (the
    assignee among agents; core.services checks they belong to the group), and the record's CIs, shown as
    they are when editing. Each kind's form adds its fields and its Meta (model, fields, widgets)."""

    assignment_group = PickModelChoiceField(
        queryset=AssignmentGroup.objects.filter(active=True),
        source="group",
        to_field_name="name",
        required=False,
    )
    assigned_to = PickModelChoiceField(
        queryset=agent_users(),
        source="agent",
        to_field_name="username",
        required=False,
        help_text="Must be a member of the assignment group.",
    )
    configuration_items = ConfigurationItemsField(label="Configuration items")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["configuration_items"] = self.instance.configuration_items.all()


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment", max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}), strip=True
    )
    visibility = forms.ChoiceField(
        choices=VISIBILITY_CHOICES, initial="internal", widget=forms.RadioSelect, label="Visibility"
    )

    def __init__(self, *args, staff: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not staff:
            # Requesters only ever write public comments.
            del self.fields["visibility"]

    @property
    def is_public(self) -> bool:
        return self.cleaned_data.get("visibility", "public") == "public"


class AttachmentForm(forms.Form):
    file = forms.FileField(label="File")
    public = forms.BooleanField(
        required=False, initial=True, label="Visible to the caller", help_text="Unchecked: agents only."
    )


class TransitionForm(VersionedFormMixin):
    """The fields one move needs, built from the model's Workflow: `fields_for(to)` with model form fields.

    Fields the workflow *requires* for the move are required here too; the rest (`sets`) are optional.
    `move_fields()` returns what to hand to the transition service.
    """

    note = forms.CharField(
        label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=10_000
    )

    def __init__(self, *args, record: TicketBase, to: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.record = record
        self.to = to
        workflow = record.workflow
        required = set(workflow.requires.get(to, ()))
        for name in workflow.fields_for(to):
            form_field = self.move_form_field(record, name)
            if form_field is None:
                continue
            form_field.required = name in required
            if isinstance(form_field, forms.TypedChoiceField) and form_field.required:
                form_field.choices = [c for c in form_field.choices if c[0] != ""]
                form_field.choices = [("", "---------"), *form_field.choices]
            self.fields[name] = form_field
        # The note goes last, after the move's own fields.
        self.fields["note"] = self.fields.pop("note")
        if not self.is_bound:
            self.initial.setdefault("version", record.version)

    @staticmethod
    def move_form_field(record: TicketBase | type[TicketBase], name: str):
        """The form field for one move field: the record's `move_form_field(name)` hook when it offers
        one (options that are not model fields, such as a problem's `resolve_incidents`), else the model
        field's own form field."""
        hook = getattr(record, "move_form_field", None)
        form_field = hook(name) if hook is not None else None
        if form_field is not None:
            return form_field
        form_field = record._meta.get_field(name).formfield()
        if isinstance(form_field.widget, forms.Textarea):
            form_field.widget.attrs.setdefault("rows", 3)  # a move's notes are a few lines, not a page
        return form_field

    @property
    def to_label(self) -> str:
        return self.record.workflow.label(self.to)

    def move_fields(self) -> dict[str, Any]:
        names = self.record.workflow.fields_for(self.to)
        return {
            name: self.cleaned_data[name] for name in names if self.cleaned_data.get(name) not in (None, "")
        }


class BulkActionForm(forms.Form):
    """One action applied to the selected records: assign, change state (with that move's fields), or an
    app-specific action. `extra_fields` lets a list view add what its own actions need (a problem number).

    The state move's fields are the union of every move's `fields_for`, all optional here: the workflow
    check in the service names any that a particular move requires.
    """

    selected = forms.MultipleChoiceField(choices=(), label="Records")
    action = forms.ChoiceField(choices=())
    assignment_group = PickModelChoiceField(
        queryset=AssignmentGroup.objects.filter(active=True),
        source="group",
        required=False,
        to_field_name="name",
        label="Assignment group",
    )
    assigned_to = PickModelChoiceField(
        queryset=None, source="agent", required=False, to_field_name="username", label="Assigned to"
    )
    to = forms.ChoiceField(choices=(), required=False, label="New state")
    note = forms.CharField(required=False, max_length=10_000, label="Note")

    def __init__(
        self,
        *args,
        model: type[TicketBase],
        actions: list[tuple[str, str]],
        extra_fields: dict[str, forms.Field] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.model = model
        self.fields["action"].choices = actions
        self.fields["assigned_to"].queryset = agent_users()
        workflow = model.workflow
        self.fields["to"].choices = [("", "---------")] + [(s, workflow.label(s)) for s in workflow.states]
        self.move_field_names: list[str] = []
        for state in workflow.states:
            for name in workflow.fields_for(state):
                if name in self.fields or name in self.move_field_names:
                    continue
                form_field = TransitionForm.move_form_field(model, name)
                if form_field is None:
                    continue
                form_field.required = False
                self.fields[name] = form_field
                self.move_field_names.append(name)
        for name, field in (extra_fields or {}).items():
            self.fields[name] = field
        # Selected numbers are checked against the user's visible records by the view, not here.
        data = self.data.getlist("selected") if hasattr(self.data, "getlist") else []
        self.fields["selected"].choices = [(n, n) for n in data]

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        if action == "assign" and not cleaned.get("assignment_group") and not cleaned.get("assigned_to"):
            self.add_error("assignment_group", "Pick a group, an assignee, or both.")
        if action == "transition" and not cleaned.get("to"):
            self.add_error("to", "Pick the state to move the records to.")
        return cleaned

    def move_fields(self, to: str) -> dict[str, Any]:
        names = self.model.workflow.fields_for(to)
        return {n: self.cleaned_data[n] for n in names if self.cleaned_data.get(n) not in (None, "")}
