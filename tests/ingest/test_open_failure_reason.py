"""The reason of a failed open comes from FFmpeg's status or the error's own message, never from the URL in
the error's text: a password or port holding "401" or "404" must not pick the reason."""

from __future__ import annotations

import av
import pytest

from ingest.decode import _failure_reason

URL_WITH_DIGITS = "rtsp://admin:Canary401a404b@127.0.0.1:14040/nope"


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (av.error.HTTPNotFoundError(875574520, "Server returned 404 Not Found", URL_WITH_DIGITS), "not_found"),
        (av.error.HTTPUnauthorizedError(825242872, "Server returned 401 Unauthorized", URL_WITH_DIGITS),
         "unauthorized"),
        (av.error.HTTPForbiddenError(858797304, "Server returned 403 Forbidden", URL_WITH_DIGITS), "unauthorized"),
        (ConnectionRefusedError(111, "Connection refused"), "refused"),
        (av.error.ExitError(1414092869, "Immediate exit requested", URL_WITH_DIGITS), "timeout"),
        (av.error.InvalidDataError(1094995529, "Invalid data found when processing input", URL_WITH_DIGITS),
         "timeout"),
        (OSError(5, "Input/output error", URL_WITH_DIGITS), "error"),
    ],
)
def test_reason_ignores_the_url(exc: BaseException, reason: str) -> None:
    assert URL_WITH_DIGITS in str(exc) or not getattr(exc, "filename", None)
    assert _failure_reason(exc) == reason
