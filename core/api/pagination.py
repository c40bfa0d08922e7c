from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

from core.numbers import parse_id


class StandardPagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}`; `?page_size=` up to 500 (SPEC §5).

    A page size that is not a positive whole number is a 400 naming `page_size` (DRF would silently use the
    default); an empty one means the default; one above the cap is served at the cap, as SPEC §5 says.
    """

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param, "").strip()
        if raw and parse_id(raw) is None:  # empty means the default, as for every other parameter
            raise ValidationError({self.page_size_query_param: ["Enter a whole number from 1 to 500."]})
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view):
        """DRF's `page` and `page_size`, with the bounds the API enforces (a page or page size below 1 is
        refused) and the cap said in words."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Rows per page, 1 or more ({self.max_page_size} at most are served)."
                )
        return parameters
