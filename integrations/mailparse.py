"""Turn raw RFC 5322 bytes into what the service desk needs, whatever the client, charset or encoding.

Parsing is deliberately separate from acting on a mail: `parse` either returns a ParsedMail or raises
MailParseError with a reason an admin can read; it never touches the database.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from email import errors as email_errors
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses

import nh3

MESSAGE_ID_RE = re.compile(r"<[^<>\s]{1,250}>")
RAW_MESSAGE_ID_RE = re.compile(rb"^Message-ID:[ \t]*(<[^<>\s]{1,250}>)", re.IGNORECASE | re.MULTILINE)
# Structural defects after which we cannot trust which part is the body: keep the mail as failed.
FATAL_DEFECTS = (
    email_errors.NoBoundaryInMultipartDefect,
    email_errors.StartBoundaryNotFoundDefect,
    email_errors.CloseBoundaryNotFoundDefect,
    email_errors.MultipartInvariantViolationDefect,
)
AUTO_SUBJECT_RE = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto(matic)?[- ]?(reply|response)|abwesenheitsnotiz|"
    r"r[ée]ponse automatique)\b",
    re.IGNORECASE,
)


class MailParseError(Exception):
    """The mail cannot be understood; `reason` says why (shown to admins)."""


@dataclass
class ParsedMail:
    message_id: str
    in_reply_to: str
    references: list[str]
    from_name: str
    from_address: str
    subject: str
    body: str
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)
    automatic: str = ""  # why this is an auto-reply or bounce ("" when a person wrote it)
    bulk: str = ""  # why this is list or bulk mail ("" when sent to us directly)


def fallback_message_id(raw: bytes) -> str:
    """The header's Message-ID if one can be read from the raw bytes, else one derived from the bytes."""
    match = RAW_MESSAGE_ID_RE.search(raw[:65536])
    if match:
        return match.group(1).decode("ascii", "replace")
    return f"<sha256-{hashlib.sha256(raw).hexdigest()}@no-message-id>"


def html_to_text(markup: str) -> str:
    """Readable plain text from an HTML mail: block ends become line breaks, every tag is dropped."""
    markup = re.sub(r"(?i)<br\s*/?>", "\n", markup)
    markup = re.sub(r"(?i)</(p|div|li|tr|h[1-6]|table|blockquote|pre)\s*>", "\n", markup)
    markup = re.sub(r"(?i)<li\b[^>]*>", "- ", markup)
    text = nh3.clean(markup, tags=set(), clean_content_tags={"script", "style", "head", "title"})
    text = html.unescape(text).replace("\xa0", " ")
    return normalise_text(text)


def normalise_text(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _text_of(part: EmailMessage) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError, ValueError):
        payload = part.get_payload(decode=True) or b""
        try:
            return payload.decode(part.get_content_charset() or "utf-8", errors="replace")
        except LookupError:
            return payload.decode("utf-8", errors="replace")


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except (email_errors.HeaderParseError, IndexError, ValueError):
        value = msg.get_all(name, failobj=[""])[0] if msg.get_all(name) else ""
    return re.sub(r"\s+", " ", str(value or "")).strip()


_QUOTE_STARTS = [
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}", re.IGNORECASE),
    re.compile(r"^On\b.{0,300}\bwrote:\s*$", re.IGNORECASE),
    re.compile(r"^(Le|Am|El|Il|Op)\b.{0,300}\b(a écrit|schrieb|escribió|ha scritto|schreef)\b.{0,200}:\s*$"),
    re.compile(r"^_{10,}\s*$"),
]


def _starts_quote(lines: list[str], index: int, marker: str) -> bool:
    stripped = lines[index].strip()
    joined = stripped + " " + (lines[index + 1].strip() if index + 1 < len(lines) else "")
    if marker and marker in stripped:
        return True
    if any(p.match(stripped) for p in _QUOTE_STARTS) or _QUOTE_STARTS[1].match(joined):
        return True
    following = lines[index + 1 : index + 4]
    return bool(re.match(r"^From:\s", stripped)) and any(
        re.match(r"^(Sent|Date):\s", f.strip()) for f in following
    )


def strip_quoted(text: str, marker: str = "") -> str:
    """The new part of a reply: what comes before the quoted original (top-posting, as clients do)."""
    lines = text.split("\n")
    cut = next((i for i in range(len(lines)) if _starts_quote(lines, i, marker)), len(lines))
    kept = lines[:cut]
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    result = normalise_text("\n".join(kept))
    return result or normalise_text(text)


def _automatic(msg: EmailMessage, from_address: str, subject: str) -> str:
    content_type = msg.get_content_type()
    if content_type == "multipart/report":
        return f"delivery report (multipart/report; report-type={msg.get_param('report-type') or '?'})"
    local = from_address.split("@", 1)[0].lower()
    if local in ("mailer-daemon", "postmaster"):
        return f"bounce from {from_address}"
    if _header(msg, "Return-Path") == "<>":
        return "bounce (empty Return-Path)"
    auto_submitted = _header(msg, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return f"automatic mail (Auto-Submitted: {auto_submitted})"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"):
        if msg.get(name) is not None:
            return f"automatic reply ({name})"
    precedence = _header(msg, "Precedence").lower()
    if precedence in ("auto_reply", "junk"):
        return f"automatic mail (Precedence: {precedence})"
    if AUTO_SUBJECT_RE.match(subject):
        return "automatic reply (subject)"
    return ""


def _bulk(msg: EmailMessage) -> str:
    precedence = _header(msg, "Precedence").lower()
    if precedence in ("bulk", "list"):
        return f"bulk mail (Precedence: {precedence})"
    for name in ("List-Id", "List-Unsubscribe", "List-Post"):
        if msg.get(name) is not None:
            return f"mailing-list mail ({name})"
    return ""


def parse(raw: bytes) -> ParsedMail:
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # the parser is lenient; anything it raises means unreadable bytes
        raise MailParseError(f"unreadable message: {type(exc).__name__}: {exc}")
    fatal = [d for part in msg.walk() for d in part.defects if isinstance(d, FATAL_DEFECTS)]
    if fatal:
        names = sorted({type(d).__name__ for d in fatal})
        raise MailParseError("broken MIME structure: " + ", ".join(names))
    try:
        message_id_match = MESSAGE_ID_RE.search(_header(msg, "Message-ID"))
        message_id = message_id_match.group(0) if message_id_match else fallback_message_id(raw)
        in_reply_to_ids = MESSAGE_ID_RE.findall(_header(msg, "In-Reply-To"))
        references = MESSAGE_ID_RE.findall(_header(msg, "References"))
        senders = getaddresses([_header(msg, "From")])
        from_name, from_address = senders[0] if senders else ("", "")
        subject = re.sub(r"[\x00-\x1f\x7f]+", " ", _header(msg, "Subject")).strip()
    except Exception as exc:
        raise MailParseError(f"unreadable header: {type(exc).__name__}: {exc}")
    if not from_address or "@" not in from_address:
        raise MailParseError("no sender address in From")

    attachments: list[tuple[str, bytes, str]] = []
    body_part = msg.get_body(preferencelist=("plain", "html"))
    for part in msg.walk():
        if part.is_multipart() or part is body_part:
            continue
        filename = part.get_filename()
        if filename or part.get_content_disposition() == "attachment":
            payload = part.get_payload(decode=True) or b""
            attachments.append((filename or "attachment", payload, part.get_content_type()))
    if body_part is None:
        body = ""
    elif body_part.get_content_type() == "text/html":
        body = html_to_text(_text_of(body_part))
    else:
        body = normalise_text(_text_of(body_part))
    return ParsedMail(
        message_id=message_id,
        in_reply_to=in_reply_to_ids[0] if in_reply_to_ids else "",
        references=list(dict.fromkeys(references + in_reply_to_ids)),
        from_name=from_name,
        from_address=from_address.strip().lower(),
        subject=subject,
        body=body,
        attachments=attachments,
        automatic=_automatic(msg, from_address, subject),
        bulk=_bulk(msg),
    )
