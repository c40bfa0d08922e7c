from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

from core.numbers import parse_id


class StandardPagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}`; `?page_size=` up to 500 (SPEC §5).

    A page size that is not a positive whole number is a 400 naming `page_size` (DRF would silently use the
    default); one above the cap is served at the cap, as SPEC §5 says.
    """

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and parse_id(raw.strip()) is None:
            raise ValidationError({self.page_size_query_param: ["Enter a whole number from 1 to 500."]})
        return super().get_page_size(request)
