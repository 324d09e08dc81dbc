"""The API's one parser: JSON, bounded in size and depth.

A body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 problem, JSON nested too deeply
for the decoder a 400 problem (`malformed_body`): neither is a 500.
"""

import json
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from integrations.api.problems import BodyTooLarge


class BoundedJSONParser(JSONParser):
    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: dict[str, Any] | None = None,
    ) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise BodyTooLarge
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(raw.decode(encoding), parse_constant=json_strict_constant)
        except RecursionError:
            raise ParseError(gettext("The JSON body is nested too deeply.")) from None
        except ValueError as error:  # UnicodeDecodeError and JSONDecodeError too
            raise ParseError(gettext("The body is not valid JSON: %s") % error) from None


def json_strict_constant(name: str) -> None:
    """NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not valid JSON")
