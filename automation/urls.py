from django.urls import path

from . import views

urlpatterns = [
    path("", views.rule_list, name="automation-rule-list"),
    path("rules/new/", views.rule_edit, name="automation-rule-create"),
    path("rules/<int:pk>/", views.rule_edit, name="automation-rule-edit"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="automation-rule-delete"),
    path("rules/rows/", views.rows, name="automation-rows"),
    path("rules/condition-row/", views.condition_row, name="automation-condition-row"),
    path("rules/action-row/", views.action_row, name="automation-action-row"),
    path("rules/preview/", views.preview, name="automation-preview"),
    path("macros/new/", views.macro_edit, name="automation-macro-create"),
    path("macros/<int:pk>/", views.macro_edit, name="automation-macro-edit"),
    path("macros/<str:kind>/bulk/", views.bulk_macros, name="automation-bulk-macros"),
    path("macros/<str:kind>/<str:number>/menu/", views.macro_menu, name="automation-macro-menu"),
    path("macros/<str:kind>/<str:number>/apply/", views.apply_macro, name="automation-apply-macro"),
]
