"""CMDB pages, mounted at /cmdb/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.ci_list, name="ci-list"),
    path("cis/<int:pk>/", views.ci_detail, name="ci-detail"),
    path("cis/<int:pk>/graph.json", views.ci_graph, name="ci-graph"),
    path("import/", views.ci_import, name="ci-import"),
    path("autocomplete/", views.ci_autocomplete, name="ci-autocomplete"),
]
