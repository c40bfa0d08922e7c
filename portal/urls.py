from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("report/", views.report, name="report"),
    path("report/suggest/", views.report_suggest, name="report-suggest"),
    path("catalog/", views.catalog, name="catalog"),
    path("catalog/<int:pk>/", views.catalog_item, name="catalog-item"),
    path("tickets/", views.tickets, name="tickets"),
    path("tickets/<str:number>/", views.ticket_detail, name="ticket-detail"),
    path("tickets/<str:number>/comment/", views.ticket_comment, name="ticket-comment"),
    path("tickets/<str:number>/survey/", views.ticket_survey, name="ticket-survey"),
    path("tickets/<str:number>/reopen/", views.ticket_reopen, name="ticket-reopen"),
    path("tickets/<str:number>/cancel/", views.ticket_cancel, name="ticket-cancel"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:pk>/decide/", views.approval_decide, name="approval-decide"),
    path("kb/", views.knowledge, name="kb"),
]
