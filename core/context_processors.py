"""Template context shared by every workspace page: the navigation, filtered by role."""

from django.urls import NoReverseMatch, reverse

from accounts.roles import (
    ADMIN,
    AGENT,
    CAB_MEMBER,
    CHANGE_MANAGER,
    CMDB_MANAGER,
    KNOWLEDGE_MANAGER,
    has_role,
    is_workspace_user,
)

# (label, url name, tabler icon, roles that see it; empty = every workspace user)
NAVIGATION = [
    ("Home", "agent-home", "home", ()),
    ("Incidents", "incident-list", "alert-triangle", (AGENT,)),
    ("Requests", "request-list", "shopping-cart", (AGENT,)),
    ("Tasks", "task-list", "checkbox", (AGENT,)),
    ("Problems", "problem-list", "bug", (AGENT,)),
    ("Changes", "change-list", "git-pull-request", (AGENT, CHANGE_MANAGER, CAB_MEMBER)),
    ("Change calendar", "change-calendar", "calendar", (AGENT, CHANGE_MANAGER, CAB_MEMBER)),
    ("Approvals", "approval-list", "circle-check", ()),
    ("CMDB", "ci-list", "topology-star-3", (AGENT, CMDB_MANAGER, CHANGE_MANAGER)),
    ("Contracts", "contract-list", "file-certificate", (AGENT, CMDB_MANAGER, CHANGE_MANAGER)),
    ("Knowledge", "article-list", "book", (AGENT, KNOWLEDGE_MANAGER)),
    ("SLAs", "sla-definition-list", "clock", (ADMIN,)),
    ("Reports", "reports-dashboard", "chart-bar", (AGENT, CHANGE_MANAGER)),
    ("Integrations", "integration-home", "plug", (ADMIN,)),
    ("Sign-in", "accounts:identity", "id-badge-2", (ADMIN,)),
    ("Automation", "automation-rule-list", "robot", (AGENT, CHANGE_MANAGER)),
    ("Admin", "admin:index", "settings", (ADMIN,)),
]


def layout_for(user) -> str:
    """The layout a page (an error page, say) extends for this user: the workspace, the portal or the
    sign-in card."""
    if user is None or not user.is_authenticated:
        return "registration/base_auth.html"
    return "base.html" if is_workspace_user(user) else "portal/base.html"


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "layout": layout_for(None)}
    items = []
    current = request.path
    for label, url_name, icon, roles in NAVIGATION:
        if roles and not has_role(user, *roles):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        active = current.startswith(url) if url != "/" else current == "/"
        items.append({"label": label, "url": url, "icon": icon, "active": active})
    # The longest matching prefix wins, so /changes/calendar/ does not light up "Changes" too.
    active_items = [item for item in items if item["active"]]
    if len(active_items) > 1:
        best = max(active_items, key=lambda item: len(item["url"]))
        for item in active_items:
            item["active"] = item is best
    return {"nav_items": items, "layout": layout_for(user)}
