from rest_framework.routers import SimpleRouter

from .views import ContractViewSet, LicenseViewSet, SoftwareViewSet, VendorViewSet

router = SimpleRouter()
router.register("vendors", VendorViewSet, basename="vendor")
router.register("contracts", ContractViewSet, basename="contract")
router.register("software", SoftwareViewSet, basename="software")
router.register("licenses", LicenseViewSet, basename="license")
urlpatterns = router.urls
