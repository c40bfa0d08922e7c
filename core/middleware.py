"""Security headers and per-user time zones, applied to every response."""

import zoneinfo

from django.conf import settings
from django.utils import timezone

from accounts.identity.config import end_session_origin

# No inline script anywhere (htmx and our JS are static files); styles may be inline for small layout bits.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # The API docs too: Swagger UI's start-up script is a file of its own (SpectacularSwaggerSplitView).
        # ReDoc runs its search index in a worker it creates from a blob of its own bundle.
        policy = CONTENT_SECURITY_POLICY
        provider = end_session_origin()
        if provider:  # sign-out redirects on to the SSO provider's end-session endpoint
            policy = policy.replace("form-action 'self'", f"form-action 'self' {provider}")
        if request.path == "/api/v1/redoc/":
            policy += "; worker-src 'self' blob:"
        response.setdefault("Content-Security-Policy", policy)
        response.setdefault("X-Content-Type-Options", "nosniff")
        response.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY)
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


class UserTimezoneMiddleware:
    """Show dates in the signed-in user's time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "time_zone", ""):
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)
