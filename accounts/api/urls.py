from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ApiTokenViewSet, GroupViewSet, TokenView, UserViewSet

router = SimpleRouter()
router.register("users", UserViewSet, basename="user")
router.register("groups", GroupViewSet, basename="group")
router.register("auth/tokens", ApiTokenViewSet, basename="api-token")
urlpatterns = [path("auth/token/", TokenView.as_view(), name="auth-token"), *router.urls]
