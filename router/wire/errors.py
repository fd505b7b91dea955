"""The one error hierarchy of the request path.

ProxyError
 ├── InvalidRequest        400 invalid_request_error   (bad JSON, wrong types, missing fields)
 │    └── UnsupportedMediaType 415                      (a body that is not JSON: what web pages can send)
 ├── Unauthorized          401 authentication_error
 ├── PermissionDenied      403 permission_error        (a web page's Origin, a foreign Host)
 ├── MissingCredential     403 permission_error        (a provider key ccr was not given; 403 because Claude
 │                                                      Code retries a 401 silently but shows a 403 at once)
 ├── NotFound              404 not_found_error         (unknown provider / model / path)
 ├── RequestTooLarge       413 request_too_large
 └── UpstreamError         any status an upstream answered with, mapped to the Anthropic type for it
      ├── UpstreamUnavailable  502 api_error           (connection refused, garbage, wrong content type)
      └── UpstreamTimeout      504 timeout_error
Everything a client sees goes through `error_body`; anything else becomes a 500 with no internals shown. Messages
are redacted (router/redact.py) when the error is made.
"""

from __future__ import annotations

import orjson

from router.redact import redact

STATUS_TO_TYPE = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}


TYPE_TO_STATUS = {
    "invalid_request_error": 400, "authentication_error": 401, "billing_error": 402, "permission_error": 403,
    "not_found_error": 404, "request_too_large": 413, "rate_limit_error": 429, "api_error": 500,
    "timeout_error": 504, "overloaded_error": 529,
}


def type_for_status(status: int) -> str:
    if status in STATUS_TO_TYPE:
        return STATUS_TO_TYPE[status]
    return "invalid_request_error" if 400 <= status < 500 else "api_error"


class ProxyError(Exception):
    status = 500
    error_type = "api_error"
    # ccr's own failure, whatever deployment it happened on: never retried, never tried elsewhere
    local = False

    def __init__(
        self, message: str, *, status: int | None = None, error_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        message = redact(message)  # upstream answers may echo keys; this text reaches logs and clients
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
            self.error_type = error_type or type_for_status(status)
        elif error_type is not None:
            self.error_type = error_type
        self.headers = headers or {}

    def body(self) -> bytes:
        return error_body(self.error_type, self.message)


class InvalidRequest(ProxyError):
    status = 400
    error_type = "invalid_request_error"


class UnsupportedMediaType(InvalidRequest):
    status = 415


class Unauthorized(ProxyError):
    status = 401
    error_type = "authentication_error"


class PermissionDenied(ProxyError):
    status = 403
    error_type = "permission_error"


class MissingCredential(ProxyError):
    status = 403
    error_type = "permission_error"


class NotFound(ProxyError):
    status = 404
    error_type = "not_found_error"


class RequestTooLarge(ProxyError):
    status = 413
    error_type = "request_too_large"


class UpstreamError(ProxyError):
    """An upstream answered with an error, or failed; `status` is what the client gets."""


class UpstreamUnavailable(UpstreamError):
    status = 502
    error_type = "api_error"


class UpstreamTimeout(UpstreamError):
    status = 504
    error_type = "timeout_error"


def error_body(error_type: str, message: str) -> bytes:
    return orjson.dumps({"type": "error", "error": {"type": error_type, "message": message}})


INTERNAL_MESSAGE = ("ccr hit an internal error; the details are in its log (logs/ccr.log under CCR_HOME, ~/.ccr "
                    "by default). Please report it.")


def error_event(exc: ProxyError) -> bytes:
    """A failure after the stream began: Anthropic's `event: error`."""
    return b"event: error\ndata: " + exc.body() + b"\n\n"
