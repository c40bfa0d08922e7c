from django.contrib.auth import authenticate, get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services, throttling
from accounts.models import AssignmentGroup
from accounts.roles import is_admin
from core.api.parsers import BoundedJSONParser

from .serializers import GroupSerializer, TokenRequestSerializer, TokenResponseSerializer, UserSerializer

User = get_user_model()


class IsSuiteAdmin(permissions.BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and is_admin(request.user))


class IsAdminOrReadOnly(permissions.BasePermission):
    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or is_admin(request.user)


class TokenView(APIView):
    """POST username and password, get `{"token": ...}`; failures are throttled and say nothing more."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    extra_error_codes = ["401", "429"]  # wrong credentials; too many attempts (core.api.schema)
    parser_classes = [BoundedJSONParser, FormParser, MultiPartParser]  # `curl -d` and `-F` work too

    def get_authenticate_header(self, request):
        # A failed sign-in is a 401 (with a challenge), not a 403, even though this view authenticates nobody.
        return 'Token realm="api"'

    @extend_schema(request=TokenRequestSerializer, responses=TokenResponseSerializer)
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["username"]
        address = request.META.get("REMOTE_ADDR", "")
        if not throttling.take_attempt(username, address):
            raise exceptions.Throttled(detail=throttling.LOCKED_MESSAGE)
        user = authenticate(request, username=username, password=serializer.validated_data["password"])
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("Invalid username or password.")
        throttling.clear(username, address)
        token = services.issue_token(user=user)
        return Response({"token": token.key})


class UserViewSet(viewsets.ModelViewSet):
    """Users (admin only). Deleting deactivates, so tickets keep their history."""

    serializer_class = UserSerializer
    permission_classes = [IsSuiteAdmin]
    queryset = User.objects.prefetch_related("groups", "assignment_groups").select_related("manager")
    lookup_field = "username"
    lookup_value_regex = r"[\w.@+-]+"
    filterset_fields = ["is_active", "department"]

    def perform_create(self, serializer):
        serializer.instance = services.user_save(actor=self.request.user, data=serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.user_save(
            actor=self.request.user, instance=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.user_save(actor=self.request.user, instance=instance, data={"is_active": False})


class GroupViewSet(viewsets.ModelViewSet):
    """Assignment groups: everyone signed in can read them (forms need them); admins write."""

    serializer_class = GroupSerializer
    permission_classes = [IsAdminOrReadOnly]
    queryset = AssignmentGroup.objects.select_related("manager").prefetch_related("members")
    lookup_field = "name"
