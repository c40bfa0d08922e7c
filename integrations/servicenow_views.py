"""`/api/now/table/incident`: the ServiceNow Table API subset of integrations.servicenow.

Authentication: HTTP Basic (what ServiceNow clients send) or our API tokens (`Authorization: Token ...`;
a read token is refused every write), or a session. Errors always come in ServiceNow's shape.
"""

from __future__ import annotations

import re

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import ExpiringTokenAuthentication
from core.api.parsers import BoundedJSONParser
from core.numbers import MAX_ID, parse_id
from core.selectors import visible_tickets
from incidents.choices import IncidentState
from incidents.models import Incident

from . import servicenow as sn

MAX_LIMIT = 500
QUERY_FIELDS = {"number": "number", "state": "state", "active": "active", "sys_id": "pk",
                "caller_id": "caller__username", "assignment_group": "assignment_group__name"}  # fmt: skip
ORDER_FIELDS = {"number": "number", "sys_created_on": "opened_at", "sys_updated_on": "updated_at",
                "opened_at": "opened_at", "priority": "priority"}  # fmt: skip
# What `sysparm_query` takes, as the schema says it: clauses joined by ^, each `field=value` (a value is
# anything but ^) on QUERY_FIELDS or ORDERBY / ORDERBYDESC on ORDER_FIELDS; empty clauses are skipped.
QUERY_CLAUSE = "(?:(?:{})=[^^]*|ORDERBY(?:DESC)?(?:{}))".format(
    "|".join(QUERY_FIELDS), "|".join(ORDER_FIELDS)
)
QUERY_PATTERN = rf"^{QUERY_CLAUSE}?(?:\^{QUERY_CLAUSE}?)*$"


class ServiceNowView(APIView):
    authentication_classes = [BasicAuthentication, ExpiringTokenAuthentication, SessionAuthentication]
    parser_classes = [BoundedJSONParser]
    renderer_classes = [JSONRenderer]

    def handle_exception(self, exc):
        """Every refusal as ServiceNow words it: {"error": {"message", "detail"}, "status": "failure"}."""
        if isinstance(exc, sn.SNError):
            return self._error(exc.status, exc.message, exc.detail)
        if isinstance(exc, Http404):
            return self._error(
                404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval"
            )
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
            response = self._error(401, "User Not Authenticated", str(exc.detail))
            response["WWW-Authenticate"] = 'Basic realm="Service-now"'
            return response
        if isinstance(exc, exceptions.PermissionDenied):
            return self._error(403, "Operation Failed", str(exc.detail))
        if isinstance(exc, exceptions.ParseError):
            return self._error(400, "Exception while reading request", str(exc.detail))
        if isinstance(exc, exceptions.APIException):
            return self._error(exc.status_code, "Operation Failed", str(exc.detail))
        return super().handle_exception(exc)

    @staticmethod
    def _error(code: int, message: str, detail: str) -> Response:
        return Response({"error": {"message": message, "detail": detail}, "status": "failure"}, status=code)

    def _incidents(self):
        return (
            visible_tickets(Incident, self.request.user)
            .select_related("caller", "opened_by", "assignment_group", "assigned_to")
            .prefetch_related("configuration_items")
        )

    def _result(self, record: dict) -> dict:
        wanted = [
            f.strip() for f in self.request.query_params.get("sysparm_fields", "").split(",") if f.strip()
        ]
        return {k: record.get(k, "") for k in wanted} if wanted else record


class IncidentTableView(ServiceNowView):
    """`GET` (query) and `POST` (create) on /api/now/table/incident."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "sysparm_query",
                {"type": "string", "pattern": QUERY_PATTERN},
                description="e.g. number=INC0000042 (^ joins conditions)",
            ),
            OpenApiParameter(
                "sysparm_limit",
                {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                description=f"at most {MAX_LIMIT} rows are served",
            ),
            OpenApiParameter("sysparm_offset", {"type": "integer", "minimum": 0, "maximum": MAX_ID}),
            OpenApiParameter("sysparm_fields", str, description="comma-separated field names"),
        ],
        responses={200: dict},
        summary="ServiceNow Table API: query incidents",
        tags=["servicenow"],
        operation_id="servicenow_incident_query",
    )
    def get(self, request):
        queryset = self._incidents()
        ordering = ["number"]
        for clause in filter(None, request.query_params.get("sysparm_query", "").split("^")):
            if clause.startswith("ORDERBYDESC") or clause.startswith("ORDERBY"):
                desc = clause.startswith("ORDERBYDESC")
                name = clause.removeprefix("ORDERBYDESC" if desc else "ORDERBY")
                if name not in ORDER_FIELDS:
                    raise sn.SNError("Invalid query", f"sysparm_query: cannot order by {name!r}.")
                ordering = [("-" if desc else "") + ORDER_FIELDS[name]]
                continue
            match = re.fullmatch(r"(\w+)=(.*)", clause, re.DOTALL)
            if not match or match.group(1) not in QUERY_FIELDS:
                raise sn.SNError(
                    "Invalid query",
                    f"sysparm_query: {clause!r} is not supported (use field=value with {', '.join(QUERY_FIELDS)}).",
                )
            queryset = self._filter(queryset, match.group(1), match.group(2))
        limit, offset = self._int("sysparm_limit", MAX_LIMIT), self._int("sysparm_offset", 0)
        rows = queryset.order_by(*ordering)[offset : offset + min(limit, MAX_LIMIT)]
        return Response({"result": [self._result(sn.to_record(row)) for row in rows]})

    def _int(self, name: str, default: int) -> int:
        raw = self.request.query_params.get(name)
        if raw in (None, ""):
            return default
        value = 0 if raw == "0" else parse_id(raw)
        if value is None:
            raise sn.SNError("Invalid value", f"{name}: {raw!r} is not a whole number.")
        return value

    @staticmethod
    def _filter(queryset, name: str, value: str):
        value = value.replace("\x00", "")  # PostgreSQL cannot compare NUL; a query string never makes a 500
        if name == "number":
            return queryset.filter(number=value.upper())
        if name == "state":
            return queryset.filter(state=sn.STATES_BY_CODE.get(value, "-"))
        if name == "active":
            finals = [IncidentState.CLOSED, IncidentState.CANCELED]
            return (
                queryset.exclude(state__in=finals) if value == "true" else queryset.filter(state__in=finals)
            )
        if name == "sys_id":
            return queryset.filter(pk=sn.pk_of(value) or 0)
        return queryset.filter(**{QUERY_FIELDS[name]: value})

    @extend_schema(
        request={"application/json": sn.request_schema(creating=True)},
        responses={201: dict},
        summary="ServiceNow Table API: create an incident",
        tags=["servicenow"],
        operation_id="servicenow_incident_create",
    )
    def post(self, request):
        incident = sn.create_incident(request.data, actor=request.user)
        return Response(
            {"result": self._result(sn.to_record(self._incidents().get(pk=incident.pk)))}, status=201
        )


class IncidentRecordView(ServiceNowView):
    """`GET`, `PUT` and `PATCH` on /api/now/table/incident/{sys_id}."""

    def _get(self, sys_id: str) -> Incident:
        pk = sn.pk_of(sys_id)
        incident = self._incidents().filter(pk=pk).first() if pk else None
        if incident is None:
            raise Http404
        return incident

    @extend_schema(
        responses={200: dict},
        summary="ServiceNow Table API: read an incident",
        tags=["servicenow"],
        operation_id="servicenow_incident_read",
    )
    def get(self, request, sys_id: str):
        return Response({"result": self._result(sn.to_record(self._get(sys_id)))})

    @extend_schema(
        request={"application/json": sn.request_schema(creating=False)},
        responses={200: dict},
        summary="ServiceNow Table API: update an incident",
        tags=["servicenow"],
        operation_id="servicenow_incident_update",
    )
    def put(self, request, sys_id: str):
        incident = sn.update_incident(self._get(sys_id), request.data, actor=request.user)
        return Response({"result": self._result(sn.to_record(self._incidents().get(pk=incident.pk)))})

    @extend_schema(
        request={"application/json": sn.request_schema(creating=False)},
        responses={200: dict},
        summary="ServiceNow Table API: update some fields of an incident",
        tags=["servicenow"],
        operation_id="servicenow_incident_partial_update",
    )
    def patch(self, request, sys_id: str):
        return self.put(request, sys_id)
