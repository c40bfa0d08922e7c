"""Every write to the CMDB: CIs, relationships and CI classes, each with its history rows.

Services are keyword-only, take the acting user and the `source` of the change (ui, api, import, shell),
run in one transaction, validate before writing (errors name the field or the attribute, nothing is
changed), and write CIChange rows explicitly, never through signals, so an import or a shell session leaves
the same trail as the web UI. Each announces a `ci.created|updated|deleted` event (core.events).
"""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from contracts.software import forget_ci
from core import events

from .models import (
    ChangeSource,
    CIChange,
    CIClass,
    ConfigurationItem,
    Relationship,
    RelationshipType,
)
from .selectors import open_tickets_for_ci_any_user

# The plain fields a create/update may write (ci_class included: re-classing re-validates attributes).
CI_FIELDS = (
    "name",
    "ci_class",
    "status",
    "environment",
    "owner",
    "support_group",
    "serial_number",
    "description",
    "attributes",
)


class CIInUse(ValidationError):
    """A CI that open tickets still reference cannot be deleted (HTTP 409)."""


def _actor_name(actor) -> str:
    if actor is None or not getattr(actor, "pk", None):
        return "system"
    return actor.username


def _display(value: Any) -> Any:
    """A JSON-safe value for the history: users by username, groups and classes by name."""
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return getattr(value, "username", None) or getattr(value, "name", None) or str(value)


def _check_source(source: str) -> str:
    if source not in ChangeSource.values:
        raise ValueError(f"Unknown change source {source!r}; use one of {', '.join(ChangeSource.values)}.")
    return source


@functools.lru_cache(maxsize=64)
def _validator(schema_json: str):
    """A checked, compiled validator per schema text (an import validates thousands of rows per class),
    or the schema error message."""
    schema = json.loads(schema_json)
    validator_cls = jsonschema.validators.validator_for(schema)
    try:
        validator_cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        return exc.message
    return validator_cls(schema)


def validate_attributes(ci_class: CIClass, attributes: Any) -> None:
    """Check `attributes` against the class's JSON Schema; the error names each bad attribute:
    `{"attributes": {"cpu_count": "'four' is not of type 'integer'"}}`."""
    if not isinstance(attributes, dict):
        raise ValidationError({"attributes": "Must be a JSON object of attribute name to value."})
    schema = ci_class.attribute_schema or {}
    validator = _validator(json.dumps(schema, sort_keys=True))
    if isinstance(validator, str):
        raise ValidationError({"attributes": f"The schema of class {ci_class.name} is invalid: {validator}"})
    errors: dict[str, str] = {}
    for error in validator.iter_errors(attributes):
        if error.absolute_path:
            name = ".".join(str(part) for part in error.absolute_path)
        elif error.validator == "required":
            name = str(error.message).split("'")[1] if "'" in error.message else "attributes"
        elif error.validator == "additionalProperties":
            extra = sorted(set(attributes) - set(schema.get("properties", {})))
            name = extra[0] if extra else "attributes"
        else:
            name = "attributes"
        errors.setdefault(name, error.message)
    if errors:
        raise attribute_error(errors)


def attribute_error(errors: dict[str, str]) -> ValidationError:
    """A ValidationError on `attributes` that also carries the per-attribute dict (`.attribute_errors`),
    which the API renders as `{"attributes": {"cpu_count": "..."}}`."""
    exc = ValidationError({"attributes": [f"{name}: {message}" for name, message in errors.items()]})
    exc.attribute_errors = errors
    return exc


def error_detail(exc: ValidationError) -> dict[str, Any]:
    """A field → message(s) dict for an API or import report, with attribute errors keyed by attribute."""
    if not hasattr(exc, "error_dict"):
        return {"non_field_errors": exc.messages}
    detail: dict[str, Any] = {name: messages for name, messages in exc.message_dict.items()}
    if getattr(exc, "attribute_errors", None):
        detail["attributes"] = exc.attribute_errors
    return detail


def validate_schema(schema: Any) -> None:
    """An attribute schema must itself be a valid JSON Schema describing an object."""
    if not isinstance(schema, dict):
        raise ValidationError({"attribute_schema": "Must be a JSON object (a JSON Schema)."})
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ValidationError({"attribute_schema": f"Not a valid JSON Schema: {exc.message}"})
    if schema.get("type", "object") != "object":
        raise ValidationError({"attribute_schema": 'The schema must describe an object ("type": "object").'})


def _clean(ci: ConfigurationItem, *, check_unique: bool = True) -> None:
    """Validate fields and attributes; with `check_unique`, also both natural keys (one query).

    The importer passes check_unique=False: it has already looked the keys of its whole batch up in one
    query and tracks the CIs it creates, and the unique constraints back it up (a race fails the batch's
    savepoint, and the importer then retries row by row with the check).
    """
    ci.attributes = ci.attributes if ci.attributes is not None else {}
    errors: dict[str, Any] = {}
    attribute_errors: dict[str, str] = {}
    try:
        # Related objects arrive as instances (serializers and the importer resolved them): no FK queries.
        ci.full_clean(
            exclude=["attributes", "ci_class", "owner", "support_group"],
            validate_constraints=False,
            validate_unique=False,
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if ci.ci_class_id:
        try:
            validate_attributes(ci.ci_class, ci.attributes)
        except ValidationError as exc:
            errors.update(exc.message_dict)
            attribute_errors = getattr(exc, "attribute_errors", {})
    if ci.ci_class_id is None:
        errors.setdefault("ci_class", []).append("This field is required.")
    elif ci.name and check_unique:
        # One query for both natural keys (the database constraints back this up).
        match = Q(name=ci.name) | (Q(serial_number=ci.serial_number) if ci.serial_number else Q(pk__in=[]))
        taken = (
            ConfigurationItem.objects.filter(match, ci_class_id=ci.ci_class_id).exclude(pk=ci.pk).order_by()
        )
        for name, serial in taken.values_list("name", "serial_number")[:2]:
            if name == ci.name:
                errors.setdefault("name", []).append(
                    f"A {ci.ci_class.name} named {ci.name!r} already exists."
                )
            if ci.serial_number and serial == ci.serial_number:
                errors.setdefault("serial_number", []).append(
                    f"A {ci.ci_class.name} with serial number {ci.serial_number!r} already exists."
                )
    if errors:
        exc = ValidationError(errors)
        exc.attribute_errors = attribute_errors
        raise exc


def _log(ci, *, actor, source, action, field="", old=None, new=None, at=None) -> CIChange:
    return CIChange(
        ci=ci,
        ci_name=ci.name,
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        actor_name=_actor_name(actor),
        action=action,
        field=field,
        old_value=_display(old),
        new_value=_display(new),
        source=source,
        changed_at=at or timezone.now(),
    )


@transaction.atomic
def create_ci(*, actor, fields: dict[str, Any], source: str = ChangeSource.SHELL) -> ConfigurationItem:
    """Create a CI after validating its fields and attributes; logs one `created` history row."""
    return insert_cis([new_ci(fields=fields)], actor=actor, source=source)[0]


def new_ci(*, fields: dict[str, Any], check_unique: bool = True) -> ConfigurationItem:
    """An unsaved CI built from `fields` and validated (ValidationError naming the field or attribute);
    save it with insert_cis. check_unique=False skips the natural-key query (see _clean)."""
    unknown = set(fields) - set(CI_FIELDS)
    if unknown:
        raise ValidationError({name: "Unknown field." for name in sorted(unknown)})
    ci = ConfigurationItem(**fields)
    _clean(ci, check_unique=check_unique)
    return ci


@transaction.atomic
def insert_cis(
    cis: list[ConfigurationItem], *, actor, source: str = ChangeSource.SHELL
) -> list[ConfigurationItem]:
    """Insert CIs validated by new_ci in one statement, with their `created` history rows in a second one,
    and announce each (`ci.created`). The importer's batch path: two round trips for a whole batch."""
    _check_source(source)
    if not cis:
        return cis
    ConfigurationItem.objects.bulk_create(cis)
    now = timezone.now()
    CIChange.objects.bulk_create(
        [_log(ci, actor=actor, source=source, action="created", new=ci.name, at=now) for ci in cis]
    )
    for ci in cis:
        events.publish("ci.created", record=ci, actor=actor, data={"source": source})
    return cis


def diff_ci(ci: ConfigurationItem, changes: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """The (field, old, new) triples `changes` would make; attributes are compared key by key and named
    `attributes.<key>`. Used by update_ci and by the importer's dry run."""
    diffs: list[tuple[str, Any, Any]] = []
    for name, new in changes.items():
        if name == "attributes":
            old_attrs = ci.attributes or {}
            new_attrs = new or {}
            for key in sorted(set(old_attrs) | set(new_attrs)):
                if old_attrs.get(key) != new_attrs.get(key) or (key in old_attrs) != (key in new_attrs):
                    diffs.append((f"attributes.{key}", old_attrs.get(key), new_attrs.get(key)))
            continue
        old = getattr(ci, name)
        if old != new:
            diffs.append((name, old, new))
    return diffs


@transaction.atomic
def update_ci(
    ci: ConfigurationItem, *, actor, changes: dict[str, Any], source: str = ChangeSource.SHELL
) -> ConfigurationItem:
    """Write `changes` (field → value; `attributes` replaces the whole dict) under a row lock and log one
    history row per changed field or attribute. No change, no row, no event."""
    _check_source(source)
    unknown = set(changes) - set(CI_FIELDS)
    if unknown:
        raise ValidationError({name: "Unknown or read-only field." for name in sorted(unknown)})
    ci = ConfigurationItem.objects.select_for_update().select_related("ci_class").get(pk=ci.pk)
    diffs = diff_ci(ci, changes)
    if not diffs:
        return ci
    for name, value in changes.items():
        setattr(ci, name, value)
    _clean(ci)
    ci.save()
    now = timezone.now()
    CIChange.objects.bulk_create(
        [
            _log(ci, actor=actor, source=source, action="updated", field=f, old=o, new=n, at=now)
            for f, o, n in diffs
        ]
    )
    events.publish(
        "ci.updated", record=ci, actor=actor, data={"source": source, "fields": [d[0] for d in diffs]}
    )
    return ci


@transaction.atomic
def delete_ci(ci: ConfigurationItem, *, actor, source: str = ChangeSource.SHELL) -> None:
    """Delete a CI and its relationships, refused (CIInUse) while an open ticket of any kind references it.

    The history rows stay (ci set to NULL, the name frozen) with a final `deleted` row.
    """
    _check_source(source)
    ci = ConfigurationItem.objects.select_for_update().get(pk=ci.pk)
    blocking = open_tickets_for_ci_any_user(ci)
    if blocking:
        numbers = ", ".join(t.number for t in blocking[:10])
        more = f" and {len(blocking) - 10} more" if len(blocking) > 10 else ""
        raise CIInUse(
            f"{ci.name} cannot be deleted: open tickets reference it ({numbers}{more}). "
            "Close them or unlink the CI first, or set its status to retired."
        )
    _log(ci, actor=actor, source=source, action="deleted", old=ci.name).save()
    events.publish("ci.deleted", record=ci, actor=actor, data={"source": source})
    forget_ci(ci.pk)  # its installations go with it: its software titles count one CI less
    ci.delete()


def _relationship_errors(source_ci, target_ci, rel_type) -> dict[str, str]:
    errors: dict[str, str] = {}
    if rel_type not in RelationshipType.values:
        errors["type"] = (
            f"Unknown relationship type {rel_type!r}; use one of {', '.join(RelationshipType.values)}."
        )
    if source_ci is None:
        errors["source"] = "The source CI does not exist."
    if target_ci is None:
        errors["target"] = "The target CI does not exist."
    if source_ci is not None and target_ci is not None and source_ci.pk == target_ci.pk:
        errors["target"] = "A CI cannot be related to itself."
    return errors


@transaction.atomic
def add_relationship(
    *,
    actor,
    source: ConfigurationItem,
    target: ConfigurationItem,
    type: str,
    origin: str = ChangeSource.SHELL,
) -> Relationship:
    """Relate two CIs; refuses self-loops and duplicates (naming the field). Cycles between CIs are
    allowed: every traversal is cycle-safe. Logs a `related` row on both CIs."""
    _check_source(origin)
    errors = _relationship_errors(source, target, type)
    if not errors and Relationship.objects.filter(source=source, target=target, type=type).exists():
        errors["target"] = f"{source.name} already {type.replace('_', ' ')} {target.name}."
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            rel = Relationship.objects.create(source=source, target=target, type=type)
    except IntegrityError:
        raise ValidationError({"target": f"{source.name} already {type.replace('_', ' ')} {target.name}."})
    _log_relationships([rel], actor=actor, origin=origin)
    return rel


@transaction.atomic
def insert_relationships(
    edges: list[tuple[ConfigurationItem, ConfigurationItem, str]], *, actor, origin: str = ChangeSource.SHELL
) -> list[Relationship]:
    """Insert (source, target, type) edges the caller has checked (known type, no self-loop, not present)
    in one statement, with their `related` history rows in a second one. A duplicate that slipped through
    raises IntegrityError: the importer then retries row by row through add_relationship."""
    _check_source(origin)
    for source, target, rel_type in edges:
        errors = _relationship_errors(source, target, rel_type)
        if errors:
            raise ValidationError(errors)
    rels = Relationship.objects.bulk_create(
        [Relationship(source=source, target=target, type=rel_type) for source, target, rel_type in edges]
    )
    _log_relationships(rels, actor=actor, origin=origin)
    return rels


def _log_relationships(rels: list[Relationship], *, actor, origin: str) -> None:
    """A `related` history row on both CIs of each new relationship, and a `ci.updated` event each."""
    now = timezone.now()
    rows, announced = [], []
    for rel in rels:
        source, target = rel.source, rel.target
        value = {
            "source": source.pk,
            "type": rel.type,
            "target": target.pk,
            "label": f"{source.name} {rel.type} {target.name}",
        }
        for ci in (source, target):
            rows.append(
                _log(
                    ci, actor=actor, source=origin, action="related", field="relationship", new=value, at=now
                )
            )
        announced.append((source, value))
    CIChange.objects.bulk_create(rows)
    for source, value in announced:
        events.publish(
            "ci.updated", record=source, actor=actor, data={"source": origin, "relationship": value}
        )


@transaction.atomic
def remove_relationship(rel: Relationship, *, actor, origin: str = ChangeSource.SHELL) -> None:
    """Delete one relationship and log an `unrelated` row on both of its CIs."""
    _check_source(origin)
    rel = Relationship.objects.select_related("source", "target").get(pk=rel.pk)
    value = {
        "source": rel.source_id,
        "type": rel.type,
        "target": rel.target_id,
        "label": f"{rel.source.name} {rel.type} {rel.target.name}",
    }
    now = timezone.now()
    CIChange.objects.bulk_create(
        [
            _log(
                rel.source,
                actor=actor,
                source=origin,
                action="unrelated",
                field="relationship",
                old=value,
                at=now,
            ),
            _log(
                rel.target,
                actor=actor,
                source=origin,
                action="unrelated",
                field="relationship",
                old=value,
                at=now,
            ),
        ]
    )
    rel.delete()
    events.publish(
        "ci.updated", record=rel.source, actor=actor, data={"source": origin, "relationship": None}
    )


@transaction.atomic
def save_ci_class(
    *, actor, name: str, label: str = "", description: str = "", attribute_schema: dict | None = None
) -> CIClass:
    """Create or update a CI class (admins only, enforced by the caller); the schema must be valid."""
    schema = attribute_schema if attribute_schema is not None else {"type": "object", "properties": {}}
    validate_schema(schema)
    ci_class, _created = CIClass.objects.get_or_create(name=name, defaults={"label": label or name})
    ci_class.label = label or ci_class.label or name
    ci_class.description = description
    ci_class.attribute_schema = schema
    ci_class.full_clean(validate_unique=False)
    ci_class.save()
    return ci_class
