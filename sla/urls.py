from django.urls import path

from . import views

urlpatterns = [
    path("", views.definition_list, name="sla-definition-list"),
    path("breaching/", views.breaching_soon, name="sla-breaching-soon"),
]
