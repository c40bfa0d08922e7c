"""The permission matrix: every URL pattern of the suite, as every role, against one declarative table.

`EXPECTED` below is the single source of truth: one entry per URL name (web pages, portal, API), each a
rule giving the outcome of a GET for every role. The walker resolves every pattern Django knows
(`get_resolver()`, recursively), fills its path parameters with real records owned by requester A, and
compares. A route that is not in the table fails the test until someone classifies it; the admin site's
generated routes share one area rule.

Outcomes: "200", "403", "404", "405", "login" (302 to the login page), "portal" (302 to the portal home),
"401" (API: anonymous, 401 or 403). For routes that only take POST (GET is "405" for the roles that may
see the object), a POST by every role that may not see the object must answer 404 (or the login/401
refusal for anonymous), never 403.

Besides the status, every 200 answer given to a role that may not see A's private records must not contain
their numbers or the marker word in their texts: this covers lists, search, counts, exports, autocompletes,
timelines and suggestions in one sweep.

Run with `-s` to see the figures (routes x roles checked). `MATRIX_DISCOVER=1` prints the observed table
instead of asserting (for classifying new routes).
"""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

MARKER = "zebraquokka"  # in the texts of every record A owns; must never reach a role that may not see them

ROLES = (
    "anon",
    "req_a",
    "req_b",
    "agent_other",
    "agent",
    "change_mgr",
    "cab",
    "km",
    "cmdb_mgr",
    "admin",
)
WORKSPACE = ("agent_other", "agent", "change_mgr", "cab", "km", "cmdb_mgr", "admin")
REQUESTERS = ("req_a", "req_b")


def rule(default: str, **overrides: str) -> dict[str, str]:
    """A full role -> outcome row: `default` for every role, `overrides` for the named ones."""
    row = {role: default for role in ROLES}
    unknown = set(overrides) - set(ROLES)
    assert not unknown, unknown
    row.update(overrides)
    return row


def only(roles, ok: str = "200", others: str = "404", anon: str = "login", **overrides) -> dict[str, str]:
    """`ok` for `roles`, `others` for every other signed-in role."""
    row = rule(others, anon=anon, **{role: ok for role in roles})
    row.update(overrides)
    return row


# --- the named rules ------------------------------------------------------------------------------------
PUBLIC = rule("200")
SIGNED_IN = rule("200", anon="login")
# Agent workspace pages: requesters are sent to the portal.
WORKSPACE_PAGE = rule("200", anon="login", req_a="portal", req_b="portal")
API_OPEN = rule("200", anon="401")
API_POST_ONLY = rule("405", anon="401")
WEB_POST_ONLY = rule("405", anon="login")

# Who may see A's records: incidents, requests, tasks and problems (agents), changes (plus change managers
# and CAB members), draft articles (authors: agents and knowledge managers).
TICKET_SEERS = ("req_a", "agent_other", "agent", "admin")
CHANGE_SEERS = (*TICKET_SEERS, "change_mgr", "cab")
DRAFT_SEERS = ("agent_other", "agent", "km", "admin")


def workspace_record(seers, ok: str = "200") -> dict[str, str]:
    """A workspace page about one record: requesters go to the portal, roles that may not see it get 404."""
    return only(seers, ok=ok, req_a="portal", req_b="portal")


def api_record(seers, ok: str = "200") -> dict[str, str]:
    return only(seers, ok=ok, anon="401")


# A form POST endpoint of the workspace: GET only sends the user back to the record's page (no write).
def workspace_post(_seers) -> dict[str, str]:
    return rule("detail", anon="login", req_a="portal", req_b="portal")


def ticket_routes(kind: str, seers, *, create: bool = True, edit: bool = True, extra: tuple = ()) -> dict:
    routes = {
        f"{kind}-list": WORKSPACE_PAGE,
        f"{kind}-detail": workspace_record(seers),
        f"{kind}-transition": workspace_record(seers),  # GET: the move form; POST applies it
        f"{kind}-comment": workspace_post(seers),
        f"{kind}-attach": workspace_post(seers),
        f"{kind}-watch": workspace_post(seers),
        f"{kind}-assign-to-me": workspace_post(seers),
        f"api:{kind}-list": API_OPEN,
        f"api:{kind}-detail": api_record(seers),
        f"api:{kind}-attachments": api_record(seers),
        f"api:{kind}-comments": api_record(seers),
        f"api:{kind}-timeline": api_record(seers),
        f"api:{kind}-transition": API_POST_ONLY,
    }
    if create:
        routes[f"{kind}-create"] = WORKSPACE_PAGE
    if edit:
        routes[f"{kind}-edit"] = workspace_record(seers)
    for name in extra:
        routes[name] = API_POST_ONLY if name.startswith("api:") else workspace_post(seers)
    return routes


EXPECTED: dict[str, dict[str, str]] = {
    # core, accounts, API root
    "home": rule("workspace", anon="login", req_a="portal", req_b="portal"),
    "health": PUBLIC,
    "favicon": PUBLIC,  # /favicon.ico: the suite's icon, asked for by browsers on every page
    "api-not-found": rule("404"),  # any /api/ path no route matches: a JSON 404, signed in or not
    "attachment-download": only(TICKET_SEERS),
    "agent-home": WORKSPACE_PAGE,
    "search": SIGNED_IN,
    "accounts:login": rule("home", anon="200"),
    "accounts:logout": rule("405"),
    "accounts:password_change": SIGNED_IN,
    "accounts:password_change_done": SIGNED_IN,
    "accounts:password_reset": PUBLIC,
    "accounts:password_reset_done": PUBLIC,
    "accounts:password_reset_confirm": PUBLIC,
    "accounts:password_reset_complete": PUBLIC,
    "accounts:api-tokens": SIGNED_IN,
    "accounts:api-token-revoke": WEB_POST_ONLY,
    # Enterprise identity (accounts/identity): the admins' page; the SSO routes answer 404 to everyone
    # while OIDC is not configured (as here), and redirect to the provider / back to login once it is.
    "accounts:identity": only(("admin",)),
    "accounts:oidc-login": rule("404"),
    "accounts:oidc-callback": rule("404"),
    "api:api-token-list": API_OPEN,
    "api:api-token-detail": only(("req_a", "admin"), anon="401"),
    "api:root": API_OPEN,
    "api:schema": PUBLIC,
    "api:docs": PUBLIC,
    "api:redoc": PUBLIC,
    "api:auth-token": rule("405"),
    "api:user-list": only(("admin",), anon="401", others="403"),
    "api:user-detail": only(("admin",), anon="401", others="403"),
    "api:group-list": API_OPEN,
    "api:group-detail": API_OPEN,
    # tickets
    **ticket_routes("incident", TICKET_SEERS),
    # Correlation (SPEC §7): the group of an incident; detach and confirm/replace the cause are agent POSTs.
    "incident-correlation": workspace_post(TICKET_SEERS),
    "api:incident-correlation": api_record(TICKET_SEERS),
    "api:incident-correlation-detach": API_POST_ONLY,
    "api:incident-correlation-cause": API_POST_ONLY,
    **ticket_routes("request", TICKET_SEERS, create=False, edit=False),
    **ticket_routes("task", TICKET_SEERS, create=False, edit=False),
    **ticket_routes(
        "problem",
        TICKET_SEERS,
        extra=(
            "problem-link-incidents",
            "problem-publish-known-error",
            "api:problem-link-incidents",
            "api:problem-unlink-incidents",
            "api:problem-publish-known-error",
        ),
    ),
    **ticket_routes("change", CHANGE_SEERS),
    # A CAB member reads a change but does not move it (changes.services): the move form is a 403 for them.
    "change-transition": {**workspace_record(CHANGE_SEERS), "cab": "403"},
    "api:change-conflicts": api_record(CHANGE_SEERS),
    "change-calendar": only(
        ("agent_other", "agent", "change_mgr", "cab", "admin"), req_a="portal", req_b="portal"
    ),
    "change-decide": WEB_POST_ONLY,
    "blackout-create": WEB_POST_ONLY,
    "api:change-template-list": only(CHANGE_SEERS[1:], anon="401", others="403"),
    "api:change-template-detail": only(CHANGE_SEERS[1:], anon="401", others="403"),
    "api:blackout-window-list": only(CHANGE_SEERS[1:], anon="401", others="403"),
    "api:blackout-window-detail": only(CHANGE_SEERS[1:], anon="401", others="403"),
    # requests: catalog, approvals, surveys
    "approval-list": SIGNED_IN,
    "approval-decide": WEB_POST_ONLY,
    "survey-report": only(("agent_other", "agent", "change_mgr", "admin")),
    "api:catalog-category-list": API_OPEN,
    "api:catalog-category-detail": API_OPEN,
    "api:catalog-item-list": API_OPEN,
    "api:catalog-item-detail": API_OPEN,
    "api:approval-list": API_OPEN,
    "api:approval-detail": api_record(("req_a",)),
    "api:approval-approve": API_POST_ONLY,
    "api:approval-reject": API_POST_ONLY,
    # portal
    "portal:home": SIGNED_IN,
    "portal:search": SIGNED_IN,
    "portal:report": SIGNED_IN,
    "portal:report-suggest": SIGNED_IN,
    "portal:catalog": SIGNED_IN,
    "portal:catalog-item": SIGNED_IN,
    "portal:tickets": SIGNED_IN,
    "portal:ticket-detail": only(TICKET_SEERS),
    "portal:ticket-detail@request": only(TICKET_SEERS),
    "portal:ticket-comment": WEB_POST_ONLY,
    "portal:ticket-comment@request": WEB_POST_ONLY,
    "portal:ticket-survey": WEB_POST_ONLY,
    "portal:ticket-survey@request": WEB_POST_ONLY,
    # The requester reopens a resolved incident or withdraws an open ticket: POST only, 404 for anyone else.
    "portal:ticket-reopen": WEB_POST_ONLY,
    "portal:ticket-reopen@request": WEB_POST_ONLY,
    "portal:ticket-cancel": WEB_POST_ONLY,
    "portal:ticket-cancel@request": WEB_POST_ONLY,
    "portal:approvals": SIGNED_IN,
    "portal:approval-decide": WEB_POST_ONLY,
    "portal:kb": SIGNED_IN,
    # CMDB: workspace roles read it all, requesters only business services and applications (A's CI is a
    # server), only cmdb managers and admins write it. Anonymous callers get nothing, not even empty lists.
    "ci-list": SIGNED_IN,
    "ci-detail": only(WORKSPACE),
    "ci-graph": only(WORKSPACE),
    "ci-import": only(("cmdb_mgr", "admin"), others="403"),
    "ci-autocomplete": SIGNED_IN,
    # Autocomplete pickers (core.pickers): the directory and the teams are the workspace's (404 for
    # requesters); tickets and CIs answer every signed-in role, scoped to what each may see.
    "picker@user": only(WORKSPACE),
    "picker@ci": SIGNED_IN,
    "picker@incident": SIGNED_IN,
    "api:ci-list": API_OPEN,
    "api:ci-detail": only(WORKSPACE, anon="401"),
    "api:ci-dependencies": only(WORKSPACE, anon="401"),
    "api:ci-graph": only(WORKSPACE, anon="401"),
    "api:ci-history": only(WORKSPACE, anon="401"),
    "api:ci-impact": only(WORKSPACE, anon="401"),
    "api:ci-import": API_POST_ONLY,
    "api:relationship-list": API_OPEN,
    "api:relationship-detail": only(WORKSPACE, anon="401"),
    "api:ci-class-list": API_OPEN,
    "api:ci-class-detail": API_OPEN,
    # knowledge: drafts for authors, published articles for everyone signed in
    "article-list": SIGNED_IN,
    "article-create": only(DRAFT_SEERS),
    "article-detail": only(DRAFT_SEERS),
    "article-detail@published": SIGNED_IN,
    "article-edit": only(DRAFT_SEERS),
    "article-edit@published": only(DRAFT_SEERS),
    "article-version": only(()),  # a draft has no published version 1
    "article-version@published": SIGNED_IN,
    "article-diff": only(()),
    "article-diff@published": SIGNED_IN,
    **{
        f"article-{action}{variant}": WEB_POST_ONLY
        for action in ("transition", "vote", "attach", "link")
        for variant in ("", "@published")
    },
    "api:article-suggest": API_OPEN,
    "api:article-list": API_OPEN,
    "api:article-detail": api_record(DRAFT_SEERS),
    "api:article-detail@published": API_OPEN,
    "api:article-attachments": api_record(DRAFT_SEERS),
    "api:article-attachments@published": API_OPEN,
    "api:article-versions": api_record(DRAFT_SEERS),
    "api:article-versions@published": API_OPEN,
    **{
        f"api:article-{action}{variant}": API_POST_ONLY
        for action in ("transition", "vote", "link")
        for variant in ("", "@published")
    },
    # SLA
    "sla-definition-list": only(WORKSPACE),
    "sla-breaching-soon": only(WORKSPACE),
    "api:sla-definition-list": API_OPEN,
    "api:sla-definition-detail": API_OPEN,
    "api:calendar-list": API_OPEN,
    "api:calendar-detail": API_OPEN,
    # integrations: admins only (the Alertmanager receiver takes POSTs from agents' tokens)
    "integration-home": only(("admin",)),
    "integration-inbound-detail": only(("admin",)),
    "integration-inbound-raw": only(()),  # this mail has no stored raw file
    # The ServiceNow Table API subset: the same scoping as the incidents API.
    "servicenow:incident-table": API_OPEN,
    "servicenow:incident-record": api_record(TICKET_SEERS),
    "api:integration-alertmanager": only(
        ("agent_other", "agent", "admin"), ok="405", anon="401", others="403"
    ),
    "api:webhook-list": only(("admin",), anon="401"),
    "api:webhook-detail": only(("admin",), anon="401"),
    "api:webhook-deliveries": only(("admin",), anon="401"),
    # reports: agents, change managers and admins
    "reports-dashboard": only(("agent_other", "agent", "change_mgr", "admin")),
    "reports-export": only(("agent_other", "agent", "change_mgr", "admin")),
    # automation: workspace users read rules and macros, admins edit; agents apply macros
    "automation-rule-list": only(WORKSPACE),
    "automation-rule-create": only(("admin",)),
    "automation-rule-edit": only(("admin",)),
    "automation-rule-delete": rule("405", anon="login"),
    "automation-rows": only(("admin",)),
    "automation-condition-row": only(("admin",)),
    "automation-action-row": only(("admin",)),
    "automation-preview": rule("405", anon="login"),
    "automation-macro-create": only(("admin",)),
    "automation-macro-edit": only(("admin",)),
    "automation-macro-menu": only(("agent_other", "agent", "admin")),
    "automation-bulk-macros": only(("agent_other", "agent", "change_mgr", "admin")),
    "automation-apply-macro": rule("405", anon="login"),
    "api:automation-rule-list": only(WORKSPACE, anon="401"),
    "api:automation-rule-detail": only(WORKSPACE, anon="401"),
    # POST-only actions: a GET is a 405 for every signed-in role (the method is refused before visibility)
    "api:automation-rule-preview": API_POST_ONLY,
    "api:automation-rule-preview-unsaved": API_POST_ONLY,
    "api:automation-macro-list": only(WORKSPACE, anon="401"),
    "api:automation-macro-detail": only(WORKSPACE, anon="401"),
    "api:incident-apply-macro": API_POST_ONLY,
    "api:request-apply-macro": API_POST_ONLY,
    "api:task-apply-macro": API_POST_ONLY,
    "api:problem-apply-macro": API_POST_ONLY,
    "api:change-apply-macro": API_POST_ONLY,
    # vendors, contracts, software, licenses (SPEC §8): workspace roles read, cmdb managers and admins
    # write, requesters get 404 everywhere (web pages included: not sent to the portal).
    "contract-list": only(WORKSPACE),
    "contract-detail": only(WORKSPACE),
    "contract-create": only(("cmdb_mgr", "admin"), others="403", req_a="404", req_b="404"),
    "contract-edit": only(("cmdb_mgr", "admin"), others="403", req_a="404", req_b="404"),
    "contract-renew": WEB_POST_ONLY,
    "vendor-list": only(WORKSPACE),
    "software-list": only(WORKSPACE),
    "software-detail": only(WORKSPACE),
    **{
        f"api:{name}": only(WORKSPACE, anon="401")
        for name in (
            "vendor-list",
            "vendor-detail",
            "contract-list",
            "contract-detail",
            "contract-history",
            "software-list",
            "software-detail",
            "software-installations",
            "software-compliance",
            "software-compliance-report",
            "license-list",
            "license-detail",
        )
    },
    "api:contract-renew": API_POST_ONLY,
}

# The admin site: staff only (only the admin user is staff); everyone else is sent to the admin login.
# "ok" is any answer below 500 that is not the login page (object pages of absent rows redirect, add pages of
# read-only models are 403).
ADMIN_AREA = rule("login", admin="ok")
# Django's generated admin routes are many and alike: checked as these roles only, to keep the run short.
ADMIN_AREA_ROLES = ("anon", "agent", "admin")
ADMIN_SPECIAL = {
    "admin:login": rule("200", admin="302:/admin/"),
    "admin:logout": rule("302:/admin/", admin="405"),
}


# ----------------------------------------------------------------------------------------- the world
def _make_world():
    from accounts.models import AssignmentGroup, User
    from accounts.roles import ensure_role_groups
    from automation.models import Macro, Rule
    from changes.models import BlackoutWindow, Change, ChangeTemplate
    from cmdb.ci_classes import ensure_default_classes
    from cmdb.models import CIClass, ConfigurationItem, Relationship
    from contracts.models import License, Software, Vendor
    from contracts.services import contract_create
    from core import approvals as core_approvals
    from core import services as core_services
    from incidents.services import incident_create
    from integrations.models import InboundEmail, Webhook
    from knowledge.services import article_create, article_publish_now
    from problems.models import Problem
    from requests_app.models import CatalogCategory, CatalogItem, CatalogTaskTemplate
    from requests_app.services import request_create
    from sla.models import BusinessCalendar, SLADefinition

    ensure_role_groups()
    ensure_default_classes()

    def user(username, *roles, **fields):
        made = User.objects.create_user(
            username=username, password="pw", email=f"{username}@example.com", **fields
        )
        made.groups.add(*Group.objects.filter(name__in=roles))
        return made

    users = {
        "req_a": user("mx_req_a"),
        "req_b": user("mx_req_b"),
        "agent_other": user("mx_agent_other", "agent"),
        "agent": user("mx_agent", "agent"),
        "change_mgr": user("mx_change_mgr", "change_manager"),
        "cab": user("mx_cab", "cab_member"),
        "km": user("mx_km", "knowledge_manager"),
        "cmdb_mgr": user("mx_cmdb_mgr", "cmdb_manager"),
        "admin": user("mx_admin", "admin", is_staff=True, is_superuser=True),
    }
    desk = AssignmentGroup.objects.create(name="mx-service-desk")
    desk.members.add(users["agent"])
    AssignmentGroup.objects.create(name="mx-network").members.add(users["agent_other"])
    req_a, agent = users["req_a"], users["agent"]
    text = f"Printer {MARKER} jammed"

    incident = incident_create(actor=req_a, short_description=text, description=f"{MARKER} details")
    core_services.update_ticket(incident, actor=agent, changes={"assignment_group": desk})
    core_services.add_comment(incident, actor=agent, body=f"{MARKER} note", public=False)
    attachment = core_services.add_attachment(
        incident,
        actor=req_a,
        uploaded_file=SimpleUploadedFile("screen.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png"),
    )
    category = CatalogCategory.objects.create(name="mx-hardware")
    headset = CatalogItem.objects.create(name="mx-headset", category=category, approval="none")
    CatalogTaskTemplate.objects.create(item=headset, short_description="Hand over", assignment_group=desk)
    request = request_create(actor=req_a, catalog_item=headset, short_description=f"Headset {MARKER}")
    task = request.tasks.get()
    # A must approve a laptop for C (A is C's manager): the approval is A's.
    laptop = CatalogItem.objects.create(name="mx-laptop", category=category, approval="manager")
    report = user("mx_req_c", manager=req_a)
    approved_request = request_create(actor=report, catalog_item=laptop, short_description=f"Laptop {MARKER}")
    approval = core_approvals.pending_for(req_a).get()
    problem = core_services.create_ticket(
        Problem, actor=agent, fields={"short_description": f"Jams {MARKER}"}, watchers=[req_a]
    )
    server_class = CIClass.objects.get(name="server")
    ci = ConfigurationItem.objects.create(name="mx-printsrv", ci_class=server_class, owner=req_a)
    other_ci = ConfigurationItem.objects.create(name="mx-db", ci_class=server_class)
    relationship = Relationship.objects.create(source=ci, target=other_ci, type="depends_on")
    start = timezone.now() + timedelta(days=3)
    change = core_services.create_ticket(
        Change,
        actor=users["change_mgr"],
        fields={
            "short_description": f"Replace {MARKER}",
            "planned_start": start,
            "planned_end": start + timedelta(hours=1),
        },
        watchers=[req_a],
    )
    change.cab_approvers.set([users["cab"]])
    cab_approval = core_approvals.request_approvals(
        change, approvers=[users["cab"]], actor=users["change_mgr"]
    )[0]
    draft = article_create(actor=users["km"], title=f"Draft {MARKER}", body="Unreviewed")
    published = article_create(actor=users["km"], title="Reset a printer", body="Turn it off and on.")
    article_publish_now(published, actor=users["km"])
    calendar = BusinessCalendar.objects.create(name="mx-office")
    definition = SLADefinition.objects.create(
        name="mx-p1", applies_to="incident", target="resolution", duration=3600
    )
    webhook = Webhook.objects.create(name="mx-hook", url="https://hooks.example.com/x", secret="s3cret")
    inbound = InboundEmail.objects.create(message_id="<mx@example.com>", subject="Hello", status="ignored")
    template = ChangeTemplate.objects.create(name="mx-std", short_description="Restart spooler")
    blackout = BlackoutWindow.objects.create(name="mx-freeze", start=start, end=start + timedelta(days=1))
    from accounts.services import issue_token

    api_token = issue_token(user=req_a, name="mx-script")
    vendor = Vendor.objects.create(name="mx-acme", support_phone="+1 555 0100")
    contract = contract_create(
        actor=users["cmdb_mgr"],
        fields={"name": "mx-support", "vendor": vendor, "start_date": start.date(), "end_date": start.date()},
        configuration_items=[ci],
    )
    software = Software.objects.create(name="mx-visio", key="mx-visio|")
    license = License.objects.create(software=software, quantity=1)
    return {
        "users": users,
        "api_token": api_token,
        "incident": incident,
        "attachment": attachment,
        "request": request,
        "task": task,
        "approved_request": approved_request,
        "approval": approval,
        "cab_approval": cab_approval,
        "problem": problem,
        "change": change,
        "ci": ci,
        "relationship": relationship,
        "draft": draft,
        "published": published,
        "catalog_item": headset,
        "catalog_category": category,
        "calendar": calendar,
        "definition": definition,
        "webhook": webhook,
        "inbound": inbound,
        "template": template,
        "blackout": blackout,
        "vendor": vendor,
        "contract": contract,
        "software": software,
        "license": license,
        "ci_class": server_class,
        "group": desk,
        # Automation pages about a record (macro menu, apply) are exercised on A's incident.
        "automation": incident,
        "automation_rule": Rule.objects.create(
            name="Matrix rule", applies_to="incident", trigger="created", active=False, actions=[]
        ),
        "automation_macro": Macro.objects.create(name="Matrix macro", applies_to="incident", actions=[]),
        # Numbers no role but the entitled may see anywhere.
        "hidden_numbers": [
            incident.number,
            request.number,
            task.number,
            problem.number,
            change.number,
            draft.number,
        ],
    }


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One data set for the whole module, created in a transaction rolled back at the end."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield _make_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


# ---------------------------------------------------------------------------------------- the routes
def walk(resolver=None, prefix: str = "", namespace: str = ""):
    """(url name, route regex/str, pattern) for every pattern, recursively."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from walk(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            name = pattern.name or ""
            if namespace and name:
                name = f"{namespace}:{name}"
            yield name, prefix + str(pattern.pattern), pattern


def area(route: str) -> str:
    if route.startswith("admin/"):
        return "admin"
    if route.startswith("api/"):
        return "api"
    return "web"


def build_url(route: str, values: dict[str, str]) -> str:
    """Turn a route (path converters or router regex) into a concrete URL."""
    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m.group(1)], route)
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], url)
    return "/" + url.replace("^", "").replace("$", "").replace("\\", "")


NEXT_STATE = {
    "incident": "in_progress",
    "request": "fulfilled",
    "task": "in_progress",
    "problem": "assess",
    "change": "assess",
}


def variants(name: str, route: str, w) -> list[tuple[str, dict[str, str]]]:
    """The concrete parameter sets for one route: (table key, values). Articles get a draft and a
    published variant; everything else one."""
    params = set(re.findall(r"<(?:\w+:)?(\w+)>", route)) | set(re.findall(r"\(\?P<(\w+)>", route))
    if not params:
        return [(name, {})]
    bare = name.split(":")[-1]
    values: dict[str, str] = {}
    if name == "picker":
        return [(f"picker@{source}", {"source": source}) for source in ("user", "ci", "incident")]
    if area(route) == "admin":
        values = {p: "1" for p in params} | {"app_label": "incidents"}
        return [(name, values)]
    kind = bare.split("-")[0]
    if "number" in params:
        if bare.startswith("article-"):
            return [
                (name, {**_extra(params, w), "number": w["draft"].number}),
                (f"{name}@published", {**_extra(params, w), "number": w["published"].number}),
            ]
        if name.startswith("portal:"):
            return [
                (name, {"number": w["incident"].number}),
                (f"{name}@request", {"number": w["request"].number}),
            ]
        values["number"] = w[kind].number
    if "to" in params:
        values["to"] = NEXT_STATE[kind]
    if "pk" in params:
        values["pk"] = str(_pk_for(bare, w))
    values.update(_extra(params - set(values), w))
    return [(name, values)]


PK_OWNER = {
    "attachment-download": "attachment",
    "approval-decide": "approval",
    "portal:approval-decide": "approval",
    "approval-detail": "approval",
    "approval-approve": "approval",
    "approval-reject": "approval",
    "catalog-item-detail": "catalog_item",
    "catalog-category-detail": "catalog_category",
    "catalog-item": "catalog_item",
    "ci-detail": "ci",
    "ci-graph": "ci",
    "ci-dependencies": "ci",
    "ci-history": "ci",
    "ci-impact": "ci",
    "relationship-detail": "relationship",
    "ci-class-detail": "ci_class",
    "change-template-detail": "template",
    "blackout-window-detail": "blackout",
    "sla-definition-detail": "definition",
    "calendar-detail": "calendar",
    "webhook-detail": "webhook",
    "webhook-deliveries": "webhook",
    "integration-inbound-detail": "inbound",
    "integration-inbound-raw": "inbound",
    "automation-rule-edit": "automation_rule",
    "automation-rule-delete": "automation_rule",
    "automation-rule-detail": "automation_rule",
    "automation-rule-preview": "automation_rule",
    "automation-macro-edit": "automation_macro",
    "automation-macro-detail": "automation_macro",
    "api-token-detail": "api_token",
    "api-token-revoke": "api_token",
    "vendor-detail": "vendor",
    "software-detail": "software",
    "software-installations": "software",
    "software-compliance": "software",
    "license-detail": "license",
}


def _pk_for(bare: str, w) -> int:
    return w[PK_OWNER[bare]].pk


def _extra(params: set[str], w) -> dict[str, str]:
    out = {}
    for param in params:
        if param == "username":
            out[param] = w["users"]["req_a"].username
        elif param == "name":
            out[param] = w["group"].name
        elif param == "slug":
            out[param] = "volume"
        elif param == "decision":
            out[param] = "approve"
        elif param == "version":
            out[param] = "1"
        elif param == "uidb64":
            out[param] = "MQ"
        elif param == "token":
            out[param] = "set-password"
        elif param == "kind":
            out[param] = "incident"
        elif param == "sys_id":
            out[param] = f"{w['incident'].pk:032x}"
    return out


# --------------------------------------------------------------------------------------- the outcome
DETAIL_PAGE = re.compile(r"^/(incidents|requests|requests/tasks|problems|changes)/[A-Z]+[0-9]+/$")


def outcome(response) -> str:
    status = response.status_code
    if status in (301, 302):
        location = response["Location"]
        if "/login/" in location:
            return "login"
        if location.rstrip("/").endswith("/portal"):
            return "portal"
        if DETAIL_PAGE.match(location):
            return "detail"
        return {"/workspace/": "workspace", "/": "home"}.get(location, f"302:{location}")
    return str(status)


def matches(expected: str, got: str, role: str) -> bool:
    if expected == "ok":
        return got != "login" and not got.startswith("5")
    if expected == "401":  # DRF answers 403 to anonymous clients when no authenticator sends a challenge
        return got in ("401", "403")
    return got in expected.split("|")


def clients(w) -> dict[str, Client]:
    out = {"anon": Client()}
    for role, user in w["users"].items():
        client = Client()
        client.force_login(user)
        out[role] = client
    return out


def sees_private(role: str) -> bool:
    """Roles entitled to some of A's private records (the marker may appear in their pages)."""
    return role not in ("anon", "req_b")


# POST-only routes whose object a role may not see: a POST must answer 404 (never 403), whatever the body.
def hidden_post_expectations(key: str, values: dict[str, str]) -> dict[str, str]:
    bare = key.split(":")[-1].split("@")[0]
    if "number" not in values and not bare.startswith("approval-"):
        return {}
    kind = bare.split("-")[0]
    if key.endswith("@published") or kind not in (
        "incident",
        "request",
        "task",
        "problem",
        "change",
        "article",
        "approval",
    ):
        return {}
    if bare in (f"{kind}-list", f"{kind}-create", f"{kind}-detail", f"{kind}-edit") or bare.endswith(
        ("-comments", "-attachments", "-timeline", "-conflicts", "-versions", "-list", "-correlation")
    ):
        return {}
    seers = {"change": CHANGE_SEERS, "article": DRAFT_SEERS, "approval": ("req_a",)}.get(kind, TICKET_SEERS)
    api = key.startswith("api:")
    out = {}
    for role in ROLES:
        if role in seers:
            continue
        if role == "anon":
            out[role] = "401" if api else "login"
        elif (
            role in REQUESTERS
            and not api
            and not key.startswith("portal:")
            and kind not in ("article", "approval")
        ):
            out[role] = "portal|404"  # the workspace sends requesters away (or 404s) before any lookup
        else:
            out[role] = "404"
    return out


def test_every_route_as_every_role(world, db):
    """Every route x role GET against EXPECTED; POSTs to hidden objects are 404; nothing private leaks."""
    discover = bool(os.environ.get("MATRIX_DISCOVER"))
    by_role = clients(world)
    observed: dict[str, dict[str, str]] = {}
    unclassified, mismatches, leaks = [], [], []
    checked = post_checked = 0
    for name, route, _pattern in walk():
        admin_area = area(route) == "admin"
        if not name and not admin_area:
            unclassified.append(route)
            continue
        for key, values in variants(name or route, route, world):
            url = build_url(route, values)
            expected = ADMIN_SPECIAL.get(key, ADMIN_AREA) if admin_area else EXPECTED.get(key)
            if expected is None and not discover:
                unclassified.append(key)
                continue
            row = {}
            for role in ADMIN_AREA_ROLES if admin_area else ROLES:
                response = by_role[role].get(url)
                got = row[role] = outcome(response)
                checked += 1
                if expected is not None and not matches(expected[role], got, role):
                    mismatches.append(f"GET {key} {url} as {role}: expected {expected[role]}, got {got}")
                if got == "200" and not sees_private(role) and not admin_area:
                    body = response.getvalue().decode(errors="replace")  # a file (favicon) streams
                    found = [n for n in (*world["hidden_numbers"], MARKER) if n in body]
                    if found:
                        leaks.append(f"{key} {url} as {role} shows {found}")
            for role, want in hidden_post_expectations(key, values).items():
                got = outcome(by_role[role].post(url, {}))
                post_checked += 1
                if not matches(want, got, role):
                    mismatches.append(f"POST {key} {url} as {role}: expected {want}, got {got}")
            observed[key] = row
    if discover:
        for key, row in observed.items():
            print(key, " ".join(f"{r}={v}" for r, v in row.items()))
    print(
        f"\npermission matrix: {len(observed)} routes, {len(ROLES)} roles: {checked} GETs and "
        f"{post_checked} POSTs to hidden objects checked"
    )
    assert not unclassified, f"unclassified routes: {unclassified}"
    assert not leaks, "\n".join(leaks)
    assert not mismatches, "\n".join(mismatches)


def test_search_autocomplete_and_exports_never_reveal_hidden_records(world, db):
    """Queries aimed at A's records, by number and by word, as roles that may not see them."""
    by_role = clients(world)
    numbers = world["hidden_numbers"]
    urls = [f"/search/?q={term}" for term in (*numbers, MARKER)]
    urls += [f"/portal/search/?q={term}" for term in (world["incident"].number, MARKER)]
    urls += [
        f"/api/v1/{resource}/?search={term}"
        for resource in ("incidents", "requests", "tasks", "problems", "changes", "kb/articles")
        for term in (MARKER, *numbers)
    ]
    urls += [f"/api/v1/kb/suggest/?q={MARKER}", f"/portal/report/suggest/?q={MARKER}", "/api/v1/approvals/"]
    urls += [f"/cmdb/autocomplete/?q={world['ci'].name}", f"/api/v1/cmdb/cis/?search={world['ci'].name}"]
    asked = 0
    for role in ("req_b", "km", "cmdb_mgr"):
        for url in urls:
            response = by_role[role].get(url)
            asked += 1
            assert response.status_code == 200, (role, url, response.status_code)
            body = response.content.decode()
            term = url.rsplit("=", 1)[-1]
            # The knowledge manager authored the draft and may find it.
            entitled = role == "km" and ("kb" in url or term in (world["draft"].number, MARKER))
            if not (entitled and term == world["draft"].number):
                assert f"{term}/" not in body, (role, url)  # no link to the record
            body = body.replace(term, "")  # pages echo the query back in the search box
            shown = [n for n in numbers if n in body and not (entitled and n == world["draft"].number)]
            assert not shown, (role, url, shown)
            if role == "req_b":
                assert MARKER not in body and world["ci"].name not in body, (role, url)
    # The CSV export: change managers read reports but not incidents' private texts beyond what the report shows.
    export = by_role["change_mgr"].get("/reports/export/volume.csv")
    assert export.status_code == 200 and MARKER not in export.content.decode()
    print(f"\nhidden-record queries: {asked + 1} searches, suggestions, autocompletes and exports checked")
