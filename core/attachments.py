"""Upload rules for attachments: size limit, extension allowlist, safe filenames."""

import mimetypes
import os
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError


def clean_filename(name: str) -> str:
    """Keep only the last path component, without control characters; never empty."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*').strip(" .")
    return name[:200] or "attachment"


def validate_upload(uploaded_file) -> tuple[str, str]:
    """Check an uploaded file; return (clean filename, content type). Raises ValidationError on `file`."""
    filename = clean_filename(uploaded_file.name)
    if uploaded_file.size > settings.ATTACHMENT_MAX_BYTES:
        limit_mb = settings.ATTACHMENT_MAX_BYTES / (1024 * 1024)
        raise ValidationError(
            {"file": f"File is too large ({uploaded_file.size} bytes); the limit is {limit_mb:g} MB."}
        )
    extension = os.path.splitext(filename)[1].lower().lstrip(".")
    allowed = [ext.lower() for ext in settings.ATTACHMENT_ALLOWED_EXTENSIONS]
    if not type_allowed(filename):
        raise ValidationError(
            {
                "file": f"Files of type {extension or '(none)'!r} are not allowed; allowed: {', '.join(allowed)}."
            }
        )
    # The content type comes from our own extension map, never from the client's claim.
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return filename, content_type


def type_allowed(filename: str) -> bool:
    """Whether the upload policy's extension allowlist takes this (cleaned) filename."""
    extension = os.path.splitext(filename)[1].lower().lstrip(".")
    return extension in [ext.lower() for ext in settings.ATTACHMENT_ALLOWED_EXTENSIONS]
