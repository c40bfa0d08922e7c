"""Contract, vendor and software pages, mounted at /contracts/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.contract_list, name="contract-list"),
    path("new/", views.contract_create, name="contract-create"),
    path("vendors/", views.vendor_list, name="vendor-list"),
    path("software/", views.software_list, name="software-list"),
    path("software/<int:pk>/", views.software_detail, name="software-detail"),
    path("<str:number>/", views.contract_detail, name="contract-detail"),
    path("<str:number>/edit/", views.contract_edit, name="contract-edit"),
    path("<str:number>/renew/", views.contract_renew, name="contract-renew"),
]
