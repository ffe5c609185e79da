"""Open311 GeoReport v2 (JSON only) over the complaints, under ``/open311/v2``.

A third-party app that speaks the Open311 standard can list the complaint categories (its
*services*), file complaints (*service requests*) and follow them. Only the JSON format is offered
(``.json`` resources; discovery says ``application/json``), for one jurisdiction (Daqing):
``jurisdiction_id`` is accepted and ignored.

Filing (``POST /open311/v2/requests.json``, ``application/x-www-form-urlencoded``) needs the
``api_key`` of a registered client (``python -m backend open311-client add "<name>"`` prints a new
key once; only its SHA-256 digest is stored; ``revoke`` ends it at once). The complaint is filed by
``service.file_complaint`` exactly as the app files one (routing, time limits, rate limits, events),
with ``source="open311"`` and the client's id; no account is linked. Decisions on the optional
parameters:

* ``description`` is required here (the spec makes it optional): a complaint without one cannot be
  worked. At most 4,000 characters, no HTML.
* ``media_url`` (http or https, at most 500 characters) is never fetched by the server (no SSRF): it
  is appended to the description as an unverified link for the officers, and the two together must
  fit the 4,000 characters. It is never published.
* ``first_name``/``last_name`` become the contact name, ``phone`` the contact phone (kept for
  officers only, never published). ``email`` is not stored: complaints have no e-mail contact.
* ``device_id`` keys the per-device rate limit (as ``X-Device-Id`` does in the app).
  ``account_id``, ``address_id`` and ``jurisdiction_id`` are ignored; ``address_id`` alone is not
  a location.
* The reply gives ``service_request_id`` (``DQ-<number>``) at once, and the complaint's tracking
  code in ``service_notice`` (shown once, as in the app). Tokens are never issued, so
  ``GET /tokens/{token}.json`` always answers 404.

Reading (``GET /requests.json``, ``GET /requests/{id}.json``) is public and publishes no personal
data (children's data, PIPL): ``description`` is always null, no contact details, no media, the
address is only the district or county, ``lat``/``long`` are rounded to 3 decimals (about 100 m),
and complaints of the urgent category ``child_safety`` are left out entirely (the reporter of one
still gets its id, and its tracking code, in the POST reply). ``status_notes`` is the officers'
latest *public* note.

Errors use the spec's format, ``[{"code": 400, "description": "..."}]``, with that HTTP status:
400 for missing or bad parameters (a missing api_key too, and rule violations such as a location
outside Daqing), 403 for an unknown or revoked ``api_key``, 404 for unknown resources; 429 and 503 keep
their meaning. A failed request writes nothing.
"""

from backend.complaints.open311.clients import add_client, clients_command, new_api_key, revoke_client
from backend.complaints.open311.errors import errors, open311_error, require_form
from backend.complaints.open311.fields import complaint_form
from backend.complaints.open311.reads import public_requests
from backend.complaints.open311.routes import (
    create_request,
    discovery,
    get_request,
    get_token,
    list_requests,
    open311_router,
    service_definition,
    services,
    unknown_resource,
)
from backend.complaints.open311.wire import (
    CHANGESET,
    CONTACT,
    DEFAULT_WINDOW,
    HIDDEN_CATEGORIES,
    IDS_PATTERN,
    KEY_PREFIX,
    KEY_SERVICE,
    MAX_API_KEY,
    MAX_DEVICE_ID,
    MAX_IDS,
    MAX_MEDIA_URL,
    MAX_RESULTS,
    PREFIX,
    PUBLIC_DECIMALS,
    SPECIFICATION,
    STATUS_PATTERN,
    TAGS,
    Open311Attribute,
    Open311AttributeValue,
    Open311Discovery,
    Open311Endpoint,
    Open311Error,
    Open311Filed,
    Open311Form,
    Open311Request,
    Open311Service,
    Open311ServiceDefinition,
    Text,
)

__all__ = [
    "CHANGESET",
    "CONTACT",
    "DEFAULT_WINDOW",
    "HIDDEN_CATEGORIES",
    "IDS_PATTERN",
    "KEY_PREFIX",
    "KEY_SERVICE",
    "MAX_API_KEY",
    "MAX_DEVICE_ID",
    "MAX_IDS",
    "MAX_MEDIA_URL",
    "MAX_RESULTS",
    "PREFIX",
    "PUBLIC_DECIMALS",
    "SPECIFICATION",
    "STATUS_PATTERN",
    "TAGS",
    "Open311Attribute",
    "Open311AttributeValue",
    "Open311Discovery",
    "Open311Endpoint",
    "Open311Error",
    "Open311Filed",
    "Open311Form",
    "Open311Request",
    "Open311Service",
    "Open311ServiceDefinition",
    "Text",
    "add_client",
    "clients_command",
    "complaint_form",
    "create_request",
    "discovery",
    "errors",
    "get_request",
    "get_token",
    "list_requests",
    "new_api_key",
    "open311_error",
    "open311_router",
    "public_requests",
    "require_form",
    "revoke_client",
    "service_definition",
    "services",
    "unknown_resource",
]
