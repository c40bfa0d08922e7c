from rest_framework.routers import SimpleRouter

from .views import BlackoutWindowViewSet, ChangeTemplateViewSet, ChangeViewSet

# Templates and blackouts first, so "templates" is never read as a change number.
router = SimpleRouter()
router.register("changes/templates", ChangeTemplateViewSet, basename="change-template")
router.register("changes/blackouts", BlackoutWindowViewSet, basename="blackout-window")
router.register("changes", ChangeViewSet, basename="change")
urlpatterns = router.urls
