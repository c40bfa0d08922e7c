from rest_framework.routers import SimpleRouter

from .views import CalendarViewSet, DefinitionViewSet

router = SimpleRouter()
router.register("sla/definitions", DefinitionViewSet, basename="sla-definition")
router.register("sla/calendars", CalendarViewSet, basename="calendar")
urlpatterns = router.urls
