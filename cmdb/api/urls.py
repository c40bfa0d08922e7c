from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import CIClassViewSet, CIViewSet, ImportView, RelationshipViewSet

router = SimpleRouter()
router.register("cmdb/cis", CIViewSet, basename="ci")
router.register("cmdb/relationships", RelationshipViewSet, basename="relationship")
router.register("cmdb/classes", CIClassViewSet, basename="ci-class")
urlpatterns = [path("cmdb/import/", ImportView.as_view(), name="ci-import"), *router.urls]
