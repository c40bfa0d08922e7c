"""The look of the product: layouts, static assets from npm, template tags and shared components.

These render real templates through Django's engine and context processors, and ask the staticfiles finders
for the files the layouts link to, so a missing `npm ci`, a moved dist folder or an unescaped value fails here.
"""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.core.paginator import Paginator
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

XSS_IMG = "<img src=x onerror=alert(1)>"


def _request(path="/", user=None, **get):
    request = RequestFactory().get(path, get)
    request.user = user if user is not None else AnonymousUser()
    return request


def _user():
    # Unsaved: enough for templates that only read names (the navigation context processor needs a saved one).
    return get_user_model()(username="alice", first_name="Alice", last_name="Ng")


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user(username="alice", first_name="Alice", last_name="Ng")


NAV = [
    {"label": "Incidents", "url": "/incidents/", "icon": "alert-triangle", "active": True},
    {"label": "<script>alert(1)</script>", "url": "/evil/", "icon": "bug", "active": False},
]


# ---------------------------------------------------------------- layouts


def test_base_renders_nav_items_and_escapes_labels(alice):
    html = render_to_string("base.html", {"nav_items": NAV}, request=_request("/incidents/", alice))

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="/incidents/"' in html
    assert "ti-alert-triangle" in html
    assert re.search(r'class="nav-link active" href="/incidents/"', html)
    assert not re.search(r'class="nav-link active" href="/evil/"', html)


def test_base_has_assets_csrf_meta_search_and_user_menu(alice):
    html = render_to_string("base.html", {"nav_items": []}, request=_request("/", alice))

    for asset in (
        "/static/vendor/tabler/css/tabler.min.css",
        "/static/vendor/tabler-icons/tabler-icons.min.css",
        "/static/css/itsm.css",
        "/static/vendor/htmx/htmx.min.js",
        "/static/vendor/tabler/js/tabler.min.js",
        "/static/js/itsm.js",
    ):
        assert asset in html, asset
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert token and len(token.group(1)) >= 32
    assert '<form action="/search/" method="get"' in html
    assert 'name="q"' in html
    assert 'href="/"' in html and ">ITSM<" in html
    assert 'href="/accounts/password/change/"' in html
    logout = re.search(r'<form method="post" action="/accounts/logout/"[^>]*>(.*?)</form>', html, re.S)
    assert logout and 'name="csrfmiddlewaretoken"' in logout.group(1)
    assert "Alice Ng" in html


def test_layouts_have_no_inline_script(alice):
    # The CSP is script-src 'self': every <script> must load a file.
    for name in ("base.html", "portal/base.html", "registration/login.html"):
        context = {"form": AuthenticationForm()} if "login" in name else {}
        html = render_to_string(name, context, request=_request("/", alice))
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
        assert scripts, name
        for attrs, body in scripts:
            assert "src=" in attrs and not body.strip(), (name, attrs)
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), f"inline event handler in {name}"


def test_messages_render_as_dismissible_alerts(alice):
    class Message:
        level_tag = "error"

        def __str__(self):
            return "Could not save <b>it</b>"

    messages = [Message()]
    html = render_to_string("base.html", {"messages": messages}, request=_request("/", alice))
    assert "alert alert-danger alert-dismissible" in html
    assert 'data-bs-dismiss="alert"' in html
    assert "Could not save &lt;b&gt;it&lt;/b&gt;" in html


def test_portal_layout_links_and_active_item(alice):
    html = render_to_string("portal/base.html", {}, request=_request("/portal/catalog/", alice))
    for path in (
        "/portal/",
        "/portal/report/",
        "/portal/catalog/",
        "/portal/tickets/",
        "/portal/approvals/",
        "/portal/kb/",
    ):
        assert f'href="{path}"' in html, path
    assert re.search(r'class="nav-link active" href="/portal/catalog/"', html)
    assert '<form method="post" action="/accounts/logout/"' in html
    assert '<meta name="csrf-token"' in html


def test_login_page_keeps_next_shows_errors_and_links_reset():
    form = AuthenticationForm(data={"username": "bob", "password": "nope"})
    form._errors = {"__all__": form.error_class(["Please enter a correct username and password."])}
    html = render_to_string(
        "registration/login.html",
        {"form": form, "next": '/incidents/?q="><script>'},
        request=_request("/accounts/login/"),
    )
    assert 'name="next" value="/incidents/?q=&quot;&gt;&lt;script&gt;"' in html
    assert "Please enter a correct username and password." in html
    assert 'href="/accounts/password/reset/"' in html
    assert 'name="username"' in html and 'name="password"' in html
    assert 'value="bob"' in html


@pytest.mark.parametrize(
    "name",
    [
        "registration/password_change_done.html",
        "registration/logged_out.html",
        "registration/password_reset_done.html",
        "registration/password_reset_complete.html",
    ],
)
def test_simple_auth_pages_render(name):
    html = render_to_string(name, {}, request=_request("/accounts/"))
    assert "card" in html and "ITSM" in html


def test_password_reset_email_contains_a_link():
    text = render_to_string(
        "registration/password_reset_email.html",
        {
            "user": _user(),
            "protocol": "https",
            "domain": "desk.example.com",
            "uid": "MQ",
            "token": "abc-123",
            "site_name": "desk",
            "email": "a@example.com",
        },
    )
    assert "https://desk.example.com/" in text
    assert "MQ" in text and "abc-123" in text


# ---------------------------------------------------------------- static files from npm


@pytest.mark.parametrize(
    "path",
    [
        "vendor/tabler/css/tabler.min.css",
        "vendor/tabler/js/tabler.min.js",
        "vendor/tabler-icons/tabler-icons.min.css",
        "vendor/tabler-icons/fonts/tabler-icons.woff2",
        "vendor/htmx/htmx.min.js",
        "vendor/chartjs/chart.umd.min.js",
        "vendor/cytoscape/cytoscape.min.js",
        "css/itsm.css",
        "js/itsm.js",
    ],
)
def test_static_files_are_found(path):
    assert finders.find(path), f"{path} not found: run `npm ci`"


# ---------------------------------------------------------------- template tags


def _render(source, context=None, request=None):
    ctx = dict(context or {})
    if request is not None:
        ctx["request"] = request
    return Template("{% load itsm_ui %}" + source).render(Context(ctx))


def test_querystring_replace_keeps_other_params():
    request = _request("/incidents/", state=["new", "on_hold"], q="disk full", page="2")
    out = _render("{% querystring_replace page=3 %}", request=request)
    params = dict(pair.split("=") for pair in out.split("&amp;"))
    assert params["page"] == "3"
    assert params["q"] == "disk+full"
    assert out.count("state=") == 2
    assert "state=new" in out and "state=on_hold" in out


def test_querystring_replace_none_drops_key():
    out = _render("{% querystring_replace page=None %}", request=_request("/", page="4", sort="-opened_at"))
    assert out == "sort=-opened_at"


@pytest.mark.parametrize(
    "priority,label",
    [(1, "Critical"), (2, "High"), (3, "Moderate"), (4, "Low"), (5, "Planning"), ("2", "High")],
)
def test_priority_badge_labels(priority, label):
    out = _render("{{ p|priority_badge }}", {"p": priority})
    assert f">{label}</span>" in out
    assert f"priority-p{int(priority)}" in out


def test_priority_badge_unknown_value():
    out = _render("{{ p|priority_badge }}", {"p": "<b>"})
    assert "<b>" not in out and "priority-none" in out


def test_state_badge_humanises_and_escapes():
    assert ">In progress</span>" in _render("{{ s|state_badge }}", {"s": "in_progress"})
    assert ">Pending approval</span>" in _render("{{ s|state_badge }}", {"s": "pending_approval"})
    evil = _render("{{ s|state_badge }}", {"s": '"><script>x</script>'})
    assert "<script>" not in evil


def test_sla_badge_countdown_attributes():
    due = timezone.now() + timedelta(hours=2)
    out = _render("{{ t|sla_badge }}", {"t": {"state": "running", "due_at": due, "percent": 80}})
    assert 'class="sla-countdown sla-warning"' in out
    assert f'data-due="{due.isoformat()}"' in out
    assert 'data-state="running"' in out and 'data-percent="80.0"' in out

    obj = SimpleNamespace(state="paused", due_at=due, percent=30)
    assert "sla-paused" in _render("{{ t|sla_badge }}", {"t": obj})
    assert "sla-breached" in _render(
        "{{ t|sla_badge }}", {"t": {"state": "breached", "due_at": due, "percent": 120}}
    )


# ---------------------------------------------------------------- components


def _activity(kind, body="", public=True, data=None, actor="Alice Ng"):
    return SimpleNamespace(
        kind=kind,
        actor_name=actor,
        created_at=timezone.now() - timedelta(minutes=5),
        body=body,
        public=public,
        data=data or {},
    )


def test_timeline_escapes_comment_body():
    html = render_to_string("components/timeline.html", {"activities": [_activity("comment", XSS_IMG)]})
    assert XSS_IMG not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_timeline_work_notes_differ_from_comments_and_show_changes():
    html = render_to_string(
        "components/timeline.html",
        {
            "activities": [
                _activity("comment", "Rebooted,\nplease retry"),
                _activity("work_note", "Vendor ticket 4411", public=False),
                _activity("state_change", data={"from": "new", "to": "in_progress"}),
                _activity(
                    "field_change", data={"changes": [{"field": "urgency", "old": "3", "new": XSS_IMG}]}
                ),
                _activity("sla", "Resolution SLA at 75%", actor=""),
            ]
        },
    )
    assert "timeline-work_note" in html and "Work note" in html
    assert "timeline-comment" in html and "Public comment" in html
    assert "Rebooted,<br>please retry" in html
    assert ">New</span>" in html and ">In progress</span>" in html
    assert "Urgency" in html and XSS_IMG not in html  # the field as a label, never its code
    assert "System" in html


def test_pagination_preserves_filters():
    page_obj = Paginator(list(range(200)), 10).page(5)
    html = render_to_string(
        "components/pagination.html",
        {"page_obj": page_obj},
        request=_request("/incidents/", state="new", page="5"),
    )
    assert 'href="?state=new&amp;page=4"' in html
    assert 'href="?state=new&amp;page=6"' in html
    assert "…" in html
    assert "41" in html and "50" in html and "200" in html


class _DemoForm(forms.Form):
    title = forms.CharField(help_text="One line <i>summary</i>")
    urgency = forms.ChoiceField(choices=[("1", "High"), ("2", "Medium")], widget=forms.RadioSelect)
    major = forms.BooleanField(required=False)
    group = forms.ChoiceField(choices=[("net", "Network")])


def test_form_field_shows_errors_help_and_tabler_classes():
    form = _DemoForm(data={"title": "", "urgency": "9"})
    html = "".join(
        render_to_string("components/form_field.html", {"field": form[name]}) for name in form.fields
    )
    assert 'class="form-control is-invalid"' in html
    assert "This field is required." in html
    assert "One line &lt;i&gt;summary&lt;/i&gt;" in html
    assert 'class="form-check-input"' in html and 'type="radio"' in html
    assert 'class="form-select' in html
    assert 'aria-describedby="id_title_hint id_title_errors"' in html


def test_empty_state_escapes_title():
    html = render_to_string("components/empty_state.html", {"title": XSS_IMG, "icon": "inbox"})
    assert XSS_IMG not in html and "ti-inbox" in html
