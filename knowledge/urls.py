from django.urls import path

from . import views

urlpatterns = [
    path("", views.article_list, name="article-list"),
    path("new/", views.article_create, name="article-create"),
    path("<str:number>/", views.article_detail, name="article-detail"),
    path("<str:number>/edit/", views.article_edit, name="article-edit"),
    path("<str:number>/transition/", views.article_transition, name="article-transition"),
    path("<str:number>/vote/", views.article_vote, name="article-vote"),
    path("<str:number>/attach/", views.article_attach, name="article-attach"),
    path("<str:number>/link/", views.article_link, name="article-link"),
    path("<str:number>/versions/<int:version>/", views.article_version, name="article-version"),
    path("<str:number>/diff/", views.article_diff, name="article-diff"),
]
