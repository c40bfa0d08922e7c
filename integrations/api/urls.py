from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import AlertmanagerView, WebhookViewSet

router = SimpleRouter()
router.register("webhooks", WebhookViewSet, basename="webhook")
urlpatterns = [
    path("integrations/alertmanager/", AlertmanagerView.as_view(), name="integration-alertmanager"),
    *router.urls,
]
