"""factory_boy factories, one per model the tests build records of (STYLE §11: deterministic sequences).

They write rows directly, as fixtures do: a test that is about a service calls the service; a test that
needs records in a given shape (a filter, a list, a permission) builds them here. Ticket numbers come from
each kind's sequence (the INSERT's default), so they are real numbers.
"""

from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import AssignmentGroup, User
from changes.models import BlackoutWindow, Change, ChangeTemplate
from cmdb.models import CIClass, ConfigurationItem, Relationship
from incidents.models import Category, Incident
from problems.models import Problem
from requests_app.models import CatalogCategory, CatalogItem, Request, Task
from sla.models import SLADefinition, Timer


# --- accounts ----------------------------------------------------------------------------------------
class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("pw")

    @factory.post_generation
    def roles(self, create, names, **kwargs):
        """`UserFactory(roles=["agent"])`: the role groups the migrations created."""
        if create and names:
            self.groups.add(*Group.objects.filter(name__in=names))


class AssignmentGroupFactory(DjangoModelFactory):
    class Meta:
        model = AssignmentGroup
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"group-{n}")

    @factory.post_generation
    def members(self, create, users, **kwargs):
        if create and users:
            self.members.add(*users)


# --- cmdb --------------------------------------------------------------------------------------------
class CIClassFactory(DjangoModelFactory):
    class Meta:
        model = CIClass
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"class-{n}")
    label = factory.LazyAttribute(lambda c: c.name.replace("-", " ").title())


class ConfigurationItemFactory(DjangoModelFactory):
    class Meta:
        model = ConfigurationItem

    name = factory.Sequence(lambda n: f"ci-{n:04d}")
    ci_class = factory.SubFactory(CIClassFactory)


class RelationshipFactory(DjangoModelFactory):
    class Meta:
        model = Relationship

    source = factory.SubFactory(ConfigurationItemFactory)
    target = factory.SubFactory(ConfigurationItemFactory)
    type = "depends_on"


# --- tickets -----------------------------------------------------------------------------------------
class TicketFactory(DjangoModelFactory):
    """Fields every kind shares; `state` defaults to the kind's initial state."""

    short_description = factory.Sequence(lambda n: f"Ticket {n}")
    opened_by = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        kwargs.setdefault("state", model_class.workflow.initial)
        return super()._create(model_class, *args, **kwargs)

    @factory.post_generation
    def configuration_items(self, create, cis, **kwargs):
        if create and cis:
            self.configuration_items.add(*cis)


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"category-{n}")
    label = factory.LazyAttribute(lambda c: c.name.title())


class IncidentFactory(TicketFactory):
    class Meta:
        model = Incident

    caller = factory.SelfAttribute("opened_by")
    impact = 3
    urgency = 3


class ProblemFactory(TicketFactory):
    class Meta:
        model = Problem


class ChangeTemplateFactory(DjangoModelFactory):
    class Meta:
        model = ChangeTemplate

    name = factory.Sequence(lambda n: f"Template {n}")
    short_description = factory.LazyAttribute(lambda t: t.name)


class ChangeFactory(TicketFactory):
    class Meta:
        model = Change


class BlackoutWindowFactory(DjangoModelFactory):
    class Meta:
        model = BlackoutWindow

    name = factory.Sequence(lambda n: f"Freeze {n}")
    start = factory.LazyFunction(timezone.now)
    end = factory.LazyAttribute(lambda w: w.start + timedelta(hours=4))


class CatalogCategoryFactory(DjangoModelFactory):
    class Meta:
        model = CatalogCategory

    name = factory.Sequence(lambda n: f"Catalog {n}")


class CatalogItemFactory(DjangoModelFactory):
    class Meta:
        model = CatalogItem

    name = factory.Sequence(lambda n: f"Item {n}")
    category = factory.SubFactory(CatalogCategoryFactory)


class RequestFactory(TicketFactory):
    class Meta:
        model = Request

    catalog_item = factory.SubFactory(CatalogItemFactory)


class TaskFactory(TicketFactory):
    class Meta:
        model = Task

    request = factory.SubFactory(RequestFactory)


# --- sla ---------------------------------------------------------------------------------------------
class SLADefinitionFactory(DjangoModelFactory):
    class Meta:
        model = SLADefinition

    name = factory.Sequence(lambda n: f"SLA {n}")
    applies_to = "incident"
    target = "resolution"
    duration = 4 * 3600


class TimerFactory(DjangoModelFactory):
    """A timer row on any ticket: `TimerFactory(record=incident, due_at=...)`."""

    class Meta:
        model = Timer
        exclude = ("record",)

    record = None
    definition = factory.SubFactory(SLADefinitionFactory)
    content_type = factory.LazyAttribute(lambda t: ContentType.objects.get_for_model(t.record))
    object_id = factory.LazyAttribute(lambda t: t.record.pk)
    target = "resolution"
    started_at = factory.LazyFunction(timezone.now)
