"""JSON errors for every API failure, naming the field for validation errors.

Domain errors raised by services (Django ValidationError, IllegalTransition, StaleVersion, ProtectedError)
become 400 / 412 / 409 here, so views never translate them by hand.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import Conflict, IllegalTransition, StaleVersion


def django_validation_detail(error: DjangoValidationError) -> dict | list:
    if hasattr(error, "error_dict"):
        return {field: [str(m) for m in messages] for field, messages in error.message_dict.items()}
    return {"non_field_errors": error.messages}


def exception_handler(exc, context):
    if isinstance(exc, IllegalTransition):
        return Response(
            {"to": [exc.message_dict["to"][0]], "allowed": exc.allowed, "state": exc.current},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DjangoValidationError):
        return Response(django_validation_detail(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, StaleVersion):
        return Response(
            {"detail": str(exc), "version": exc.current_version}, status=status.HTTP_412_PRECONDITION_FAILED
        )
    if isinstance(exc, Conflict):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ProtectedError):
        blockers = sorted({str(obj) for obj in exc.protected_objects})[:20]
        return Response(
            {"detail": "This object is still referenced and cannot be deleted.", "referenced_by": blockers},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        # a service's role gate says who may do this (core.services.require_role); keep its words
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        response.data = {"non_field_errors": response.data}
    return response
