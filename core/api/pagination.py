from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


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
        if not raw:  # empty means the default, as for every other parameter
            return self.page_size
        digits = raw.lstrip("0")
        if not digits or not digits.isascii() or not digits.isdigit():
            raise ValidationError({self.page_size_query_param: ["Enter a whole number, 1 or more."]})
        # Any larger number is served at the cap, however many digits it has (the schema sets no maximum).
        return self.max_page_size if len(digits) > 3 else min(int(digits), self.max_page_size)

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
