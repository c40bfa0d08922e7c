from rest_framework.routers import SimpleRouter

from .approvals import ApprovalViewSet

router = SimpleRouter()
router.register("approvals", ApprovalViewSet, basename="approval")
urlpatterns = router.urls
