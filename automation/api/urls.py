from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ApplyMacroView, MacroViewSet, RuleViewSet

router = SimpleRouter()
router.register("automation/rules", RuleViewSet, basename="automation-rule")
router.register("automation/macros", MacroViewSet, basename="automation-macro")

_PREFIXES = {
    "incident": "incidents",
    "request": "requests",
    "task": "tasks",
    "problem": "problems",
    "change": "changes",
}

urlpatterns = [
    *router.urls,
    *[
        path(
            f"{prefix}/<str:number>/apply_macro/",
            type(f"{kind.title()}ApplyMacroView", (ApplyMacroView,), {"kind": kind}).as_view(),
            name=f"{kind}-apply-macro",
        )
        for kind, prefix in _PREFIXES.items()
    ],
]
