from rest_framework.routers import SimpleRouter

from .views import CatalogCategoryViewSet, CatalogItemViewSet, RequestViewSet, TaskViewSet

router = SimpleRouter()
router.register("catalog/categories", CatalogCategoryViewSet, basename="catalog-category")
router.register("catalog/items", CatalogItemViewSet, basename="catalog-item")
router.register("requests", RequestViewSet, basename="request")
router.register("tasks", TaskViewSet, basename="task")
urlpatterns = router.urls
