"""Demo data for `make run`: a few groups, agents and requesters, then each app's own demo records.

Idempotent: every object is found by a natural key first, so running it twice changes nothing. Each app
may provide `<app>/demo.py` with `load(users: dict[str, User], groups: dict[str, AssignmentGroup])`; they
run in DEMO_APPS order (CMDB before the tickets that reference CIs).
"""

import importlib
import importlib.util

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import AssignmentGroup

DEMO_PASSWORD = "demo1234!"  # noqa: S105 - documented demo password, only for `make run` data

# (username, password, roles, first name, last name, department)
DEMO_USERS = [
    ("alice", ["agent"], "Alice", "Agent", "IT"),
    ("bob", ["agent"], "Bob", "Builder", "IT"),
    ("carol", ["change_manager", "agent"], "Carol", "Change", "IT"),
    ("dave", ["cab_member"], "Dave", "Reviewer", "IT"),
    ("erin", ["cab_member"], "Erin", "Reviewer", "IT"),
    ("kate", ["knowledge_manager", "agent"], "Kate", "Knowledge", "IT"),
    ("chris", ["cmdb_manager", "agent"], "Chris", "Config", "IT"),
    ("mary", [], "Mary", "Manager", "Sales"),
    ("rita", [], "Rita", "Requester", "Sales"),
    ("sam", [], "Sam", "Requester", "Finance"),
]
DEMO_LOGINS = [
    (username, DEMO_PASSWORD, ", ".join(roles) or "requester") for username, roles, *_ in DEMO_USERS
]

DEMO_GROUPS = {
    "service-desk": ("First-line service desk", "alice", ["alice", "bob", "kate"]),
    "network": ("Network team", "bob", ["bob", "alice"]),
    "database": ("Database administrators", "chris", ["chris", "bob"]),
    "change-advisory-board": ("Change advisory board", "carol", ["carol", "dave", "erin"]),
}

DEMO_APPS = ["cmdb", "sla", "incidents", "problems", "changes", "requests_app", "knowledge", "integrations"]
DEMO_APPS += ["contracts"]  # vendors, contracts and software (issue 23)


@transaction.atomic
def load() -> dict:
    User = get_user_model()
    users = {}
    for username, roles, first, last, department in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "department": department,
                "email": f"{username}@example.com",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(*Group.objects.filter(name__in=roles))
        users[username] = user
    for username in ("rita", "sam"):
        if users[username].manager_id is None:
            users[username].manager = users["mary"]
            users[username].save(update_fields=["manager"])
    groups = {}
    for name, (description, manager, members) in DEMO_GROUPS.items():
        group, _ = AssignmentGroup.objects.get_or_create(
            name=name, defaults={"description": description, "manager": users[manager]}
        )
        group.members.add(*[users[m] for m in members])
        groups[name] = group
    loaded = []
    for app in DEMO_APPS:
        if importlib.util.find_spec(f"{app}.demo") is None:
            continue
        importlib.import_module(f"{app}.demo").load(users=users, groups=groups)
        loaded.append(app)
    return {"users": len(users), "groups": len(groups), "apps": loaded}
