"""The official exception tree, and the translation from oxide_rx's errors into it.

Names, base classes, messages and attributes follow the official package: ``message``,
``body`` (the API's ``error`` object), ``code``, ``param``, ``type``, ``request``; status errors
add ``status_code``, ``request_id`` and ``response``. ``request`` and ``response`` are small
stand-ins (method and URL; status code and headers), not httpx objects.

>>> try:
...     raise translate(core.NotFoundError("Error code: 404 - gone", status_code=404,
...                                        body={"message": "gone", "code": "nope"}))
... except NotFoundError as exc:
...     print(exc.status_code, exc.code, repr(exc))
404 nope NotFoundError('Error code: 404 - gone')
"""

from __future__ import annotations

from typing import Any, Literal

import oxide_rx as core

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ContentFilterFinishReasonError",
    "InternalServerError",
    "LengthFinishReasonError",
    "NotFoundError",
    "OpenAIError",
    "PermissionDeniedError",
    "RateLimitError",
    "Request",
    "Response",
    "UnprocessableEntityError",
    "translate",
]


class Request:
    """What a request was: ``method`` and ``url`` (the stand-in for ``httpx.Request``)."""

    def __init__(self, method: str = "", url: str = "") -> None:
        self.method = method
        self.url = url
        self.headers: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"<Request({self.method!r}, {self.url!r})>"


class Response:
    """What came back: ``status_code`` and ``headers`` (the stand-in for ``httpx.Response``)."""

    def __init__(self, status_code: int, headers: dict[str, str] | None = None,
                 request: Request | None = None) -> None:
        self.status_code = status_code
        self.headers = headers or {}
        self.request = request or Request()

    def close(self) -> None:
        """Nothing to release: the stream that owns the connection closes it."""

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}]>"


class OpenAIError(Exception):
    """Base of every error the compat layer raises."""


class APIError(OpenAIError):
    """The API said no, or the exchange broke."""

    message: str
    request: Request
    body: object | None
    code: str | None = None
    param: str | None = None
    type: str | None

    def __init__(self, message: str, request: Request | None = None, *,
                 body: object | None) -> None:
        super().__init__(message)
        self.request = request or Request()
        self.message = message
        self.body = body
        if isinstance(body, dict):
            code = body.get("code")
            param = body.get("param")
            kind = body.get("type")
            self.code = None if code is None else str(code)
            self.param = None if param is None else str(param)
            self.type = None if kind is None else str(kind)
        else:
            self.code = None
            self.param = None
            self.type = None


class APIResponseValidationError(APIError):
    """The API's data does not have the expected shape."""

    def __init__(self, response: Response, body: object | None, *,
                 message: str | None = None) -> None:
        super().__init__(message or "Data returned by API invalid for expected schema.",
                         response.request, body=body)
        self.response = response
        self.status_code = response.status_code


class APIStatusError(APIError):
    """An HTTP 4xx or 5xx answer (after retries)."""

    response: Response
    status_code: int
    request_id: str | None

    def __init__(self, message: str, *, response: Response, body: object | None) -> None:
        super().__init__(message, response.request, body=body)
        self.response = response
        self.status_code = response.status_code
        self.request_id = response.headers.get("x-request-id")


class APIConnectionError(APIError):
    """Connecting failed, or the connection broke mid-exchange."""

    def __init__(self, *, message: str = "Connection error.",
                 request: Request | None = None) -> None:
        super().__init__(message, request, body=None)


class APITimeoutError(APIConnectionError):
    """A deadline passed."""

    def __init__(self, request: Request | None = None) -> None:
        super().__init__(message="Request timed out.", request=request)


class BadRequestError(APIStatusError):
    status_code: Literal[400] = 400


class AuthenticationError(APIStatusError):
    status_code: Literal[401] = 401


class PermissionDeniedError(APIStatusError):
    status_code: Literal[403] = 403


class NotFoundError(APIStatusError):
    status_code: Literal[404] = 404


class ConflictError(APIStatusError):
    status_code: Literal[409] = 409


class UnprocessableEntityError(APIStatusError):
    status_code: Literal[422] = 422


class RateLimitError(APIStatusError):
    status_code: Literal[429] = 429


class InternalServerError(APIStatusError):
    """HTTP >= 500."""


class LengthFinishReasonError(OpenAIError):
    """Structured output cannot be parsed: the completion hit the length limit."""

    def __init__(self, *, completion: Any) -> None:
        message = "Could not parse response content as the length limit was reached"
        if completion.usage:
            message += f" - {completion.usage}"
        super().__init__(message)
        self.completion = completion


class ContentFilterFinishReasonError(OpenAIError):
    """Structured output cannot be parsed: the content filter stopped the completion."""

    def __init__(self, *, completion: Any = None) -> None:
        super().__init__(
            "Could not parse response content as the request was rejected by the content filter",
        )
        self.completion = completion


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def translate(exc: BaseException, request: Request | None = None) -> BaseException:
    """The official-shaped error for an oxide_rx error (anything else is returned as is)."""
    if isinstance(exc, OpenAIError) or not isinstance(exc, core.OxideRxError):
        return exc
    if isinstance(exc, core.APIStatusError):
        status = exc.status_code
        cls = InternalServerError if status >= 500 else _STATUS_CLASSES.get(status, APIStatusError)
        headers = dict(exc.headers)
        return cls(exc.message, response=Response(status, headers, request), body=exc.body)
    if isinstance(exc, core.APITimeoutError):
        return APITimeoutError(request)
    if isinstance(exc, core.APIConnectionError):
        return APIConnectionError(request=request)
    if isinstance(exc, core.APIError):
        return APIError(exc.message, request, body=exc.body)
    return APIError(str(exc), request, body=None)
