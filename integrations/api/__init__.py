"""The platform's REST API, v1: keys of one organization, companies, connections, the Sage proxy.

Beside the views in the layers: it parses with serializers and calls the same
services and selectors as the pages.
"""
