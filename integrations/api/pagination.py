"""Cursor pagination of the API's lists, strict about its parameters.

`limit` outside 1..max_page_size, or not a number, and a `cursor` that is not one of
ours are refused (400 naming the parameter), never replaced by a default.
"""

from typing import Any

from django.utils.translation import gettext
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request


def limit_read(raw: str, maximum: int) -> int:
    """A page's `limit`: a whole number from 1 to `maximum`, else a ValidationError."""
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise ValidationError(gettext("Send a whole number from 1 to %(max)d.") % {"max": maximum})
    return int(raw)


def cursor_refused() -> str:
    return gettext("Not a cursor of this list: send the next or previous URL as given.")


class StrictCursorPagination(CursorPagination):
    ordering: str | tuple[str, ...] = "-id"
    page_size = 50
    max_page_size = 200
    page_size_query_param = "limit"

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            return limit_read(raw, self.max_page_size)
        except ValidationError as error:
            raise ValidationError({self.page_size_query_param: error.detail}) from None

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: [cursor_refused()]}) from None

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"How many items per page: {self.page_size} by default, "
                    f"at most {self.max_page_size}."
                )
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
            elif parameter["name"] == self.cursor_query_param:
                parameter["description"] = (
                    "Where the page starts: take it from the `next` or `previous` URL of "
                    "the page before, never build it."
                )
        return parameters
