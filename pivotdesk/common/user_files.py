"""The one way a file that a customer or agent uploaded is served: never as a page of our origin.

A stored file is hostile until its bytes prove otherwise. Only a PNG, JPEG, GIF or WebP whose magic numbers match is
shown inline (as the sniffed type, not the claimed one); everything else — HTML, SVG, XML, a ".png" that is really
HTML — is a download of `application/octet-stream`. Every response also carries `nosniff` and a `sandbox` CSP, so
even a browser that renders it runs no script and reads no cookie of ours. With `PIVOTDESK_USER_CONTENT_ORIGIN` set,
links to user files point at that separate origin (see docs/security.md, "User files").
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import FileResponse, Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils._os import safe_join
from django.utils.http import content_disposition_header

from pivotdesk.common.domain.filetypes import SNIFF_BYTES, safe_download_name, sniff_raster_image

USER_CONTENT_CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
DOWNLOAD_TYPE = "application/octet-stream"


def protect_user_content[R: HttpResponseBase](*, response: R) -> R:
    """Mark a response that carries user content: no type sniffing, no scripts, no same-origin powers."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = USER_CONTENT_CSP
    response["Referrer-Policy"] = "no-referrer"
    return response


def _sniff(handle: IO[bytes]) -> str | None:
    """The raster image type of an open file, read from its head; the file is rewound."""
    try:
        head = handle.read(SNIFF_BYTES)
        handle.seek(0)
    except (OSError, ValueError):
        return None
    return sniff_raster_image(head)


def user_file_response(*, handle: IO[bytes], filename: str, inline: bool = True) -> FileResponse:
    """Serve an uploaded or received file: inline only when wanted and its bytes are a raster image, else a download.

    The stored content type is never trusted: an inline image is served as the type its bytes show.
    """
    image_type = _sniff(handle) if inline else None
    show_inline = image_type is not None
    response = FileResponse(handle, content_type=image_type if show_inline else DOWNLOAD_TYPE)
    response["Content-Disposition"] = str(content_disposition_header(not show_inline, safe_download_name(filename)))
    return protect_user_content(response=response)


def download_disposition(filename: str) -> str:
    """A `Content-Disposition: attachment` value for generated files (exports), RFC 6266 safe for any name."""
    return str(content_disposition_header(True, safe_download_name(filename)))


def user_content_origin() -> str:
    """The separate origin that serves user files (e.g. `https://files.desk.example`), or "" for our own."""
    return str(getattr(settings, "PIVOTDESK_USER_CONTENT_ORIGIN", "") or "").rstrip("/")


def user_file_url(path: str) -> str:
    """A link to a user file: on the user-content origin when one is configured, else the path as it is."""
    origin = user_content_origin()
    return f"{origin}{path}" if origin and path.startswith("/") else path


def serve_media(request: HttpRequest, path: str, document_root: str | Path) -> FileResponse:
    """The development server's view of the local media folder (`DEBUG` only), through the same rules."""
    try:
        full = Path(safe_join(str(document_root), path))
    except (SuspiciousFileOperation, ValueError) as exc:  # a path outside the folder
        raise Http404(path) from exc
    if not full.is_file():
        raise Http404(path)
    return user_file_response(handle=full.open("rb"), filename=full.name, inline=True)
