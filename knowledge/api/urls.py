from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ArticleViewSet, SuggestView

router = SimpleRouter()
router.register("kb/articles", ArticleViewSet, basename="article")
urlpatterns = [
    path("kb/suggest/", SuggestView.as_view(), name="article-suggest"),
    *router.urls,
]
