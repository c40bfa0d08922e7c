"""Sign-in with throttling; the other auth pages are Django's own views with our templates."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from . import throttling


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


class ThrottledAuthenticationForm(AuthenticationForm):
    def clean(self):
        username = self.data.get("username", "")
        address = client_address(self.request) if self.request else ""
        if not throttling.take_attempt(username, address):
            raise ValidationError(throttling.LOCKED_MESSAGE, code="locked")
        cleaned = super().clean()
        throttling.clear(username, address)
        return cleaned


class ThrottledLoginView(auth_views.LoginView):
    """Django's LoginView (session key rotated at login, `next` checked against our host) plus throttling."""

    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True
