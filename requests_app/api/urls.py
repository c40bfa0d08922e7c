from rest_framework.routers import SimpleRouter

from .views import CatalogItemViewSet, RequestViewSet, TaskViewSet

router = SimpleRouter()
router.register("catalog/items", CatalogItemViewSet, basename="catalog-item")
router.register("requests", RequestViewSet, basename="request")
router.register("tasks", TaskViewSet, basename="task")
urlpatterns = router.urls
