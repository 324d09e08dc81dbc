"""The REST API's views: parse with a serializer, call a selector or a service, answer JSON."""

from rest_framework import generics
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from .. import selectors
from .authentication import organization_of
from .serializers import CompanySerializer


class CompanyCursor(CursorPagination):
    ordering = "-id"
    page_size = 50
    max_page_size = 200
    page_size_query_param = "limit"


class CompanyList(generics.ListAPIView):
    """The organization's companies, newest first."""

    serializer_class = CompanySerializer
    pagination_class = CompanyCursor

    def get_queryset(self):
        return selectors.api_companies(organization=organization_of(self.request))


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@permission_classes([])
@authentication_classes([])
@throttle_classes([])
def not_found(request, *args, **kwargs):
    raise NotFound
