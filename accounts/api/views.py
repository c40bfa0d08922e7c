from django.contrib.auth import authenticate, get_user_model
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, permissions, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services, throttling
from accounts.models import ApiToken, AssignmentGroup
from accounts.roles import is_admin
from core.api.mixins import ServiceWritesMixin
from core.api.parsers import BoundedJSONParser

from .serializers import (
    ApiTokenSerializer,
    GroupSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
    UserSerializer,
)

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
    """POST username and password, get `{"token": ...}`; failures are throttled and say nothing more.

    Each call creates a new token (named "default" unless `name` is given, scope `write` unless `scope`
    is given): the user's other tokens keep working, so two scripts sharing an account never log each
    other out. Tokens expire after API_TOKEN_TTL_DAYS; /api/v1/auth/tokens/ lists and revokes them."""

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
        data = serializer.validated_data
        token = services.issue_token(user=user, name=data["name"], scope=data["scope"])
        return Response(
            {
                "token": token.key,
                "id": token.id,
                "name": token.name,
                "scope": token.scope,
                "expires_at": token.expires_at,
            }
        )


class UserViewSet(ServiceWritesMixin, viewsets.ModelViewSet):
    """Users (admin only). Deleting deactivates, so tickets keep their history."""

    serializer_class = UserSerializer
    permission_classes = [IsSuiteAdmin]
    queryset = User.objects.prefetch_related("groups", "assignment_groups").select_related("manager")
    lookup_field = "username"
    lookup_value_regex = r"[\w.@+-]+"
    filterset_fields = ["is_active", "department"]
    save_service = staticmethod(services.user_save)
    retire_data = {"is_active": False}


class GroupViewSet(viewsets.ModelViewSet):
    """Assignment groups: everyone signed in can read them (forms need them); admins write."""

    serializer_class = GroupSerializer
    permission_classes = [IsAdminOrReadOnly]
    queryset = AssignmentGroup.objects.select_related("manager").prefetch_related("members")
    lookup_field = "name"


class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's own personal access tokens (SPEC §9). Admins see and revoke anyone's: `?user=name`
    lists that user's, and detail/DELETE reach every token; for others another user's token is a 404."""

    serializer_class = ApiTokenSerializer
    pagination_class = None  # a user has a handful of tokens

    def get_queryset(self):
        queryset = ApiToken.objects.select_related("user")
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema generation: no user
            return queryset.none()
        user = self.request.user
        if not is_admin(user):
            return queryset.filter(user=user)
        if self.action == "list":
            username = self.request.query_params.get("user")
            if username:
                return queryset.filter(user__username=username)
            return queryset.filter(user=user)
        return queryset

    @extend_schema(parameters=[OpenApiParameter("user", str, description="Admins: list this user's tokens")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        if "expires_at" not in data:
            data.pop("expires_at", None)
        serializer.instance = services.issue_token(user=self.request.user, actor=self.request.user, **data)

    def perform_destroy(self, instance):
        services.revoke_token(token=instance, actor=self.request.user)
