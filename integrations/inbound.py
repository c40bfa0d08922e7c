"""Act on an inbound mail: open a ticket, thread a reply, or keep it with the reason it did neither.

Every mail becomes exactly one InboundEmail row keyed by its Message-ID (unique), written in the same
transaction as the ticket or comment it causes, so ingesting the same mail twice (the command run again,
IMAP redelivering) changes nothing. Nothing is dropped: unreadable, oversized, automatic, bulk and
strangers' mails are all kept with their raw bytes and a reason admins see on the integrations page.

New mail opens an incident (requests need a catalog item and its variables, which a free-text mail does
not carry, so mail opens incidents only).
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, IntegrityError, transaction
from django.utils.text import slugify

from accounts.models import User
from accounts.roles import AGENT, has_role
from core import services as core_services
from core.attachments import clean_filename, type_allowed
from core.limits import TEXT_MAX_LENGTH
from core.models import TicketBase
from incidents.services import incident_create

from . import conf
from .mailparse import MailParseError, ParsedMail, fallback_message_id, parse, strip_quoted
from .models import InboundEmail, InboundStatus, OutboundEmail
from .notifications import REPLY_MARKER, current_inbound_message_id
from .tickets import find_by_number, number_pattern, participants

logger = logging.getLogger(__name__)

COMMENT_LIMIT = TEXT_MAX_LENGTH


def ingest(raw: bytes, *, source: str = "") -> tuple[InboundEmail, bool]:
    """Process one raw mail; returns (its InboundEmail row, whether this call created it)."""
    limit = conf.get("INBOUND_EMAIL_MAX_BYTES")
    if len(raw) > limit:
        return _keep_failed(
            raw,
            source=source,
            message_id=fallback_message_id(raw),
            reason=f"message is {len(raw)} bytes; the limit is {limit / (1024 * 1024):g} MB",
        )
    try:
        mail = parse(raw)
    except MailParseError as exc:
        return _keep_failed(raw, source=source, message_id=fallback_message_id(raw), reason=str(exc))

    existing = InboundEmail.objects.filter(message_id=mail.message_id).first()
    if existing is not None:
        return existing, False
    row = InboundEmail(
        message_id=mail.message_id,
        in_reply_to=mail.in_reply_to[:255],
        references=" ".join(mail.references)[:10000],
        from_address=mail.from_address[:254],
        subject=mail.subject[:255],
        source=source[:200],
        size=len(raw),
    )
    row.raw.save("mail.eml", ContentFile(raw), save=False)
    token = current_inbound_message_id.set(mail.message_id)
    try:
        with transaction.atomic():
            row.save()  # first, so a concurrent ingest of the same mail fails here and rolls back whole
            _act(row, mail)
            row.save()
    except IntegrityError:
        row.raw.delete(save=False)
        return InboundEmail.objects.get(message_id=mail.message_id), False
    except DatabaseError:
        row.raw.delete(save=False)
        raise  # the database is unwell: nothing is written, the caller (IMAP, the command) retries later
    except Exception as exc:
        # A mail that breaks the processing (a bug, a storage error) must neither be lost nor block the
        # mails behind it in the IMAP poll: keep it as failed, with the error, for an admin to look at.
        logger.exception("inbound mail %s could not be processed", mail.message_id)
        row.raw.delete(save=False)
        return _keep_failed(
            raw,
            source=source,
            message_id=mail.message_id,
            reason=f"could not be processed: {type(exc).__name__}: {exc}"[:1000],
        )
    finally:
        current_inbound_message_id.reset(token)
    return row, True


def _keep_failed(raw: bytes, *, source: str, message_id: str, reason: str) -> tuple[InboundEmail, bool]:
    existing = InboundEmail.objects.filter(message_id=message_id).first()
    if existing is not None:
        return existing, False
    row = InboundEmail(
        message_id=message_id, source=source[:200], size=len(raw), status=InboundStatus.FAILED, reason=reason
    )
    row.raw.save("mail.eml", ContentFile(raw), save=False)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        row.raw.delete(save=False)
        return InboundEmail.objects.get(message_id=message_id), False
    logger.warning("inbound mail %s kept as failed: %s", message_id, reason)
    return row, True


def _act(row: InboundEmail, mail: ParsedMail) -> None:
    if mail.automatic:
        row.status, row.reason = InboundStatus.IGNORED, mail.automatic
        return
    if mail.from_address == settings.DEFAULT_FROM_EMAIL.lower():
        row.status, row.reason = InboundStatus.IGNORED, "sent by our own mailbox (mail loop)"
        return
    ticket, found_by = find_thread(mail)
    sender = known_user(mail.from_address)
    row.sender = sender
    if ticket is not None:
        row.set_ticket(ticket)
        if sender is None or not may_reply(sender, ticket):
            row.status = InboundStatus.REJECTED
            row.reason = (
                f"{mail.from_address} is not a participant of {ticket.number} (found by {found_by}); "
                "the reply was not added"
            )
            return
        _add_reply(row, mail, ticket, sender)
        return
    if mail.bulk:
        row.status, row.reason = InboundStatus.IGNORED, f"{mail.bulk} does not open tickets"
        return
    sender = sender or create_requester(mail.from_address, mail.from_name)
    row.sender = sender
    _open_incident(row, mail, sender)


def find_thread(mail: ParsedMail) -> tuple[TicketBase | None, str]:
    """The ticket a mail answers: by the Message-IDs it references, then by a number in the subject."""
    ids = mail.references
    if ids:
        known = list(
            OutboundEmail.objects.filter(message_id__in=ids, ticket_id__isnull=False).values_list(
                "message_id", "ticket_type_id", "ticket_id"
            )
        ) + list(
            InboundEmail.objects.filter(message_id__in=ids, ticket_id__isnull=False).values_list(
                "message_id", "ticket_type_id", "ticket_id"
            )
        )
        # The most recent reference first (clients append to References).
        order = {message_id: index for index, message_id in enumerate(ids)}
        for _message_id, type_id, ticket_id in sorted(known, key=lambda row: -order[row[0]]):
            model = ContentType.objects.get_for_id(type_id).model_class()
            ticket = model.objects.filter(pk=ticket_id).first() if model else None
            if ticket is not None:
                return ticket, "In-Reply-To/References"
        domain = re.escape(conf.message_id_domain())
        for message_id in reversed(ids):
            match = re.fullmatch(rf"<([A-Z]+\d+)@{domain}>", message_id)
            ticket = find_by_number(match.group(1)) if match else None
            if ticket is not None:
                return ticket, "References (thread root)"
    for match in number_pattern().finditer(mail.subject):
        ticket = find_by_number(match.group(0))
        if ticket is not None:
            return ticket, f"the number {ticket.number} in the subject"
    return None, ""


def known_user(address: str) -> User | None:
    return User.objects.filter(email__iexact=address, is_active=True).order_by("pk").first()


def may_reply(user: User, ticket: TicketBase) -> bool:
    """The ticket's people (caller, opener, watchers, assignee) and agents may thread onto it."""
    return any(person.pk == user.pk for person in participants(ticket)) or has_role(user, AGENT)


def create_requester(address: str, display_name: str) -> User:
    """A requester for an unknown sender; no usable password until they reset one."""
    base = slugify(address.split("@", 1)[0])[:140] or "requester"
    username, suffix = base, 1
    while User.objects.filter(username=username).exists():
        suffix += 1
        username = f"{base}-{suffix}"
    first, _, last = (display_name or "").strip().partition(" ")
    user = User(username=username, email=address, first_name=first[:150], last_name=last[:150])
    user.set_unusable_password()
    user.save()
    return user


def _body(text: str) -> str:
    if len(text) > COMMENT_LIMIT:
        return text[: COMMENT_LIMIT - 40] + "\n[… truncated: the mail was longer]"
    return text


def _attach(row: InboundEmail, mail: ParsedMail, ticket: TicketBase, actor: User) -> None:
    added, refused = [], []
    for filename, payload, content_type in mail.attachments:
        upload = SimpleUploadedFile(filename, payload, content_type=content_type)
        try:
            if type_allowed(clean_filename(filename)):
                attachment = core_services.add_attachment(
                    ticket, actor=actor, uploaded_file=upload, public=True
                )
            else:
                # Kept, not dropped (mobile clients' `noname` parts, winmail.dat): agents decide.
                attachment = core_services.add_quarantined_attachment(
                    ticket,
                    actor=actor,
                    uploaded_file=upload,
                    reason=core_services.QUARANTINE_TYPE_NOT_ALLOWED,
                )
        except ValidationError as exc:
            refused.append(
                {"filename": filename, "reason": " ".join(exc.message_dict.get("file", exc.messages))}
            )
        else:
            entry = {"id": attachment.pk, "filename": attachment.filename, "size": attachment.size}
            if attachment.quarantined:
                entry["quarantined"] = attachment.quarantine_reason
            added.append(entry)
    row.attachments_added, row.attachments_refused = added, refused


def _add_reply(row: InboundEmail, mail: ParsedMail, ticket: TicketBase, sender: User) -> None:
    body = strip_quoted(mail.body, REPLY_MARKER)
    if not body:
        body = f"(reply by mail with {len(mail.attachments)} attachment(s) and no text)"
    core_services.add_comment(ticket, actor=sender, body=_body(body), public=True)
    _attach(row, mail, ticket, sender)
    row.status = InboundStatus.COMMENT_ADDED
    row.reason = f"added as a public comment on {ticket.number}"


def _open_incident(row: InboundEmail, mail: ParsedMail, sender: User) -> None:
    incident = incident_create(
        actor=sender,
        caller=sender,
        short_description=(mail.subject or "(no subject)")[:200],
        description=_body(mail.body),
    )
    row.set_ticket(incident)
    _attach(row, mail, incident, sender)
    row.status = InboundStatus.TICKET_CREATED
    row.reason = f"opened {incident.number}"
