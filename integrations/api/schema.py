"""The schema class of every API view (drf-spectacular's, with what all operations share)."""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

from integrations.api.problems import CONTENT_TYPE as PROBLEM_CONTENT_TYPE

# The problems any operation may answer, and those of operations that take a body.
EVERY_OPERATION = ("401", "404", "405", "406", "429", "500")
WITH_A_BODY = ("400", "413", "415")
# A POST honours Idempotency-Key: 409 while the first request runs, 422 for another body.
POSTED = ("409", "422")


class PortalAutoSchema(AutoSchema):
    """drf-spectacular's schema, with what every operation shares declared once: the
    problems it may answer and, on POSTs, the Idempotency-Key header."""

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.method == "POST":
            parameters.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    str,
                    OpenApiParameter.HEADER,
                    required=False,
                    description=(
                        "Your unique id for this operation (1 to 255 printable ASCII "
                        "characters, a UUID say). A retry with the same key and body within "
                        "24 hours gets the first answer again, with `Idempotent-Replayed: "
                        "true`; while the first still runs, a 409 `idempotency_key_in_use`; "
                        "the same key with another body, a 422 `idempotency_key_reused`."
                    ),
                )
            )
        return parameters

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = dict(super()._get_response_bodies(direction))
        statuses = list(EVERY_OPERATION)
        if self.method in ("POST", "PUT", "PATCH"):
            statuses += WITH_A_BODY
        if self.method == "POST":
            statuses += POSTED
        from integrations.api.serializers import (
            ProblemSerializer,
        )  # here: the serializers load the schema class

        for status in statuses:
            if status not in responses:
                responses[status] = self._get_response_for_code(  # type: ignore[no-untyped-call]
                    ProblemSerializer, status, media_types=[PROBLEM_CONTENT_TYPE]
                )
        return responses


def refuse_unknown_fields(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: request bodies take only their own fields (the serializers
    refuse others, integrations/api/serializers.py StrictInputMixin), so say so."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result
