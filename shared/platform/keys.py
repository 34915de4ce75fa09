"""Single-table layout: every key is built here, so the access patterns live in one place.

Access patterns (all Query or GetItem, never Scan):

| pattern                              | how                                                     |
|--------------------------------------|---------------------------------------------------------|
| a session and its counters           | GetItem  PK=SESSION#{id}  SK=META                       |
| the programme in start order         | Query GSI1  GSI1PK=PROGRAMME  (GSI1SK = start ISO UTC)  |
| sessions near now (session clock)    | Query GSI1  GSI1PK=PROGRAMME  GSI1SK BETWEEN two times  |
| registrations of a session           | Query    PK=SESSION#{id}  SK begins_with REG#           |
| one registrant in one session        | GetItem  PK=SESSION#{id}  SK=REG#{email}                |
| a registrant's registrations (email) | Query GSI1  GSI1PK=REGISTRANT#{email}                   |
| registrations by reference           | Query GSI2  GSI2PK=REF#{reference}                      |
| the waitlist of a session, in order  | Query GSI2  GSI2PK=WAITLIST#{id}  (GSI2SK = asked#seq)  |
| one registrant's waitlist entry      | GetItem  PK=SESSION#{id}  SK=WAIT#{email}               |
| promotions not yet announced         | Query    PK=SESSION#{id}  SK begins_with PROMOTED#      |
| an email already sent (send-once)    | GetItem  PK=EMAIL#{key}  SK=EMAIL                       |
| one upload (material or quarantined) | GetItem  PK=UPLOAD#{id}  SK=UPLOAD                      |
| a session's materials, all versions  | Query GSI2  GSI2PK=MATERIALS#{id}  (GSI2SK = uploaded)  |
| quarantined uploads, oldest first    | Query GSI2  GSI2PK=QUARANTINE  (GSI2SK = uploaded)      |
| materials announcements now due      | Query GSI1  GSI1PK=MATERIALS_DUE  GSI1SK <= now         |
| an address's suppression (each send) | GetItem  PK=SUPPRESSED#{email}  SK=SUPPRESSION          |
| suppressions, oldest first           | Query GSI1  GSI1PK=SUPPRESSIONS  (GSI1SK = at#email)    |
| an address erased (each submission)  | GetItem  PK=ERASED#{sha256(email)}  SK=ERASURE          |
| a session's attendance               | Query    PK=SESSION#{id}  SK begins_with ATTENDANCE#    |
| a person's attendance (email)        | Query GSI1  GSI1PK=REGISTRANT#{email}  (b_w ATTENDANCE#)|
| a session's attendance imports       | Query    PK=SESSION#{id}  SK b_w ATTENDANCE_IMPORT#     |
| the series' attendance threshold     | GetItem  PK=SERIES  SK=ATTENDANCE_THRESHOLD             |
| a session's attendance threshold     | GetItem  PK=SESSION#{id}  SK=ATTENDANCE_THRESHOLD       |
| a cap's count in a window (API)      | UpdateItem PK=CAP#{scope}#{sha256}  SK={window start}   |
| one certificate or transcript        | GetItem  PK=CERT#{number}  SK=CERTIFICATE               |
| a person's current certificate of one| GetItem  PK=SESSION#{id}  SK=CERTIFIED#{email}          |
| session (issue once)                 |                                                         |
| a session's certificates, all states | Query GSI2  GSI2PK=CERTIFICATES#{id}  (GSI2SK = issued) |
| a person's certificates (email)      | Query GSI1  GSI1PK=REGISTRANT#{email}  (b_w CERT#)      |
| a session's whole partition (reports)| Query    PK=SESSION#{id}  (every item of the session)   |
| authority aliases, all (reports)     | Query    PK=AUTHORITIES  SK begins_with ALIAS#          |
| one alias (by normalised variant)    | GetItem  PK=AUTHORITIES  SK=ALIAS#{normalised}          |
| an organiser's message (its body)    | GetItem  PK=MESSAGE#{id}  SK=MESSAGE                    |

Email addresses in keys are always the canonical lower-case form.

Items:

- Session ``PK=SESSION#{id} SK=META`` (:mod:`shared.programme.repository`), with its booking
counters
  and a ``milestone#{name}`` map per piece of once-only work done for it (a reminder, a
  notice, its start or end: :mod:`shared.programme.milestones`), and ``erased``, the count of its
  registrations erased on request (:mod:`shared.privacy.rights`); no personal data.
- Registration ``PK=SESSION#{id} SK=REG#{email}``, confirmed or waitlisted alike:
  ``GSI1PK=REGISTRANT#{email} GSI1SK=SESSION#{id}`` and
  ``GSI2PK=REF#{reference} GSI2SK=SESSION#{id}`` (one reference covers every session of
  a submission). A cancelled registration keeps its item (``status=cancelled``, with
  ``cancelled_at``, ``cancelled_from`` and, once published, ``cancellation_announced_at``:
  :mod:`shared.registrations.cancellation`).
- Waitlist entry ``PK=SESSION#{id} SK=WAIT#{email}``, written in the same transaction as
  a waitlisted registration: ``GSI2PK=WAITLIST#{id} GSI2SK={submitted at}#{sequence}``
  (:func:`waitlist_gsi2sk`): first come, first served in the order the API accepted the
  submissions (the request time, in milliseconds), ties broken by ``sequence``, a per-session
  number taken in the booking transaction (``ADD waitlist_sequence`` on the session's META
  item, conditional on the value read). An item has one GSI2 key, so the waitlist order lives on
  this second item and the registration keeps its reference key; promoting or cancelling
  a waitlisted registrant deletes the entry in the transaction that updates the
  registration.
- Promotion notice ``PK=SESSION#{id} SK=PROMOTED#{email}`` (``reference``): written in the
  transaction that promotes a waitlisted registrant, deleted once they were emailed and the
  promotion announced, so a crash in between is completed by the next promotion run.
- Registrations, waitlist entries and promotion notices hold personal data: each carries the
  TTL ``expiration``, the retention period after its session ends (:mod:`shared.privacy.retention`),
  and an erasure finds them all from the registrant's GSI1 key (:mod:`shared.privacy.rights`).
- Send-once record ``PK=EMAIL#{key} SK=EMAIL``: ``state`` sending (with ``lease_until``)
  or sent (with the SES ``message_id``); no personal data.
- Upload ``PK=UPLOAD#{id} SK=UPLOAD`` (:mod:`shared.materials.library`), one per S3 object version
  under ``sessions/`` (the id is a digest of bucket, key and version): ``type=material``
  (the material id is the upload id) with ``GSI2PK=MATERIALS#{session id}``, or
  ``type=quarantined`` with ``GSI2PK=QUARANTINE``; ``GSI2SK={uploaded at}#{id}``. No
  personal data: file names, sizes and versions.
- Materials announcement ``PK=SESSION#{id} SK=MATERIALS_DUE``: uploads after the session
  ended not yet announced (``uploads``), due at ``due`` (``GSI1PK=MATERIALS_DUE``,
  ``GSI1SK={due}``); deleted once announced.
- Suppression ``PK=SUPPRESSED#{email} SK=SUPPRESSION`` (:mod:`shared.mail.suppression`): no email
  goes to the address (``reason`` bounced, complained or unsubscribed, ``suppressed_at``, SES
  ``feedback_id``); ``GSI1PK=SUPPRESSIONS GSI1SK={suppressed at}#{email}``. Holds the address:
  it is the do-not-contact list. The address's registrations carry ``suppressed`` (the reason)
  and ``suppressed_at`` while it lasts.
- Erasure tombstone ``PK=ERASED#{digest} SK=ERASURE`` (:mod:`shared.privacy.erasures`): when an
  address was erased, keyed by a SHA-256 digest of it, so a replayed older submission is
  dropped; expires after the replay window. No address.
- Attendance ``PK=SESSION#{id} SK=ATTENDANCE#{email}`` (:mod:`shared.attendance.store`): the
  minutes a person attended a session, their ``source`` (zoom, teams, goto, csv, manual), the
  ``import_id`` that last set them and a correction's ``reason``; ``GSI1PK=REGISTRANT#{email}
  GSI1SK=ATTENDANCE#{session id}``, so a person's record and an erasure find it with their
  registrations. Proof of professional development: its TTL ``expiration`` is
  ``record_retention_years`` (default 6) after the session ends, not the registrations' days.
- Attendance import ``PK=SESSION#{id} SK=ATTENDANCE_IMPORT#{written at}#{import id}`` (audit of
  :mod:`shared.attendance.imports`): when, by whom (the caller's identity), the file's SHA-256
  digest, its format, the counts, and whether its event was published; a manual correction's
  audit names the address it corrected. Same TTL as the attendance.
- Attendance threshold ``PK=SERIES SK=ATTENDANCE_THRESHOLD`` (the series' default) and
  ``PK=SESSION#{id} SK=ATTENDANCE_THRESHOLD`` (one session's override): ``percent`` of the
  scheduled minutes; none set: 75. No personal data.
- Cap count ``PK=CAP#{scope}#{digest} SK={window start}`` (:mod:`shared.registrations.caps`):
  ``count``, the submissions the API accepted in that window (a UTC day for ``address``, keyed
  by the SHA-256 of the canonical address; a UTC hour for ``client``, the SHA-256 of the source
  IP), written by one conditional ``UpdateItem`` (``ADD``) per submission; expires a day after
  its window. No address, no IP.
- Certificate ``PK=CERT#{number} SK=CERTIFICATE`` (:mod:`shared.certificates.store`): a
  certificate of attendance (``kind`` certificate, ``GSI2PK=CERTIFICATES#{session id}
  GSI2SK={issued at}#{number}``) or a transcript (``kind`` transcript, its ``sessions``); what it
  states (holder's name, organisation, session, date, minutes, CPD hours), its ``status`` (valid,
  revoked with ``reason`` and ``replaced_by``, or withdrawn) and ``GSI1PK=REGISTRANT#{email}
  GSI1SK=CERT#{number}``. Same TTL as the attendance. An erasure keeps a tombstone: the number,
  ``kind``, ``status`` withdrawn and when, no personal data and no index keys.
- Certified marker ``PK=SESSION#{id} SK=CERTIFIED#{email}``: the number of the person's valid
  certificate of that session and its ``state`` (issuing, issued); written by a conditional put
  so an attendee gets one certificate however often the event is replayed; deleted when that
  certificate is revoked.
- Authority alias ``PK=AUTHORITIES SK=ALIAS#{normalised variant}``
  (:mod:`shared.reports.authorities`): an organisation's spelling (``variant``) and the
  ``canonical`` authority it stands for (with its normalised ``canonical_key``); a canonical
  name is never itself an alias. No personal data.
- Organiser message ``PK=MESSAGE#{id} SK=MESSAGE`` (:mod:`shared.notices.messages`): the subject,
  body, audience, session and ``essential`` flag of a message to a session's people, keyed by a
  digest of them, so the email queue's batches carry only the id. No address.

Reports (:mod:`shared.reports`) read the programme (GSI1 ``PROGRAMME``), then one Query per
session on its partition (registrations, waitlist entries and attendance together), then the
aliases: about one Query page per session of up to a few thousand registrations.
"""

from __future__ import annotations

from datetime import UTC, datetime

META = "META"
PROGRAMME = "PROGRAMME"


def session_pk(session_id: str) -> str:
    return f"SESSION#{session_id}"


def registration_sk(email_key: str) -> str:
    return f"REG#{email_key}"


REGISTRATION_SK_PREFIX = "REG#"


def registrant_gsi1pk(email_key: str) -> str:
    return f"REGISTRANT#{email_key}"


def reference_gsi2pk(reference: str) -> str:
    return f"REF#{reference}"


def waitlist_gsi2pk(session_id: str) -> str:
    return f"WAITLIST#{session_id}"


def email_pk(send_key: str) -> str:
    return f"EMAIL#{send_key}"


EMAIL_SK = "EMAIL"
WAITLIST_SK_PREFIX = "WAIT#"


def waitlist_sk(email_key: str) -> str:
    return f"{WAITLIST_SK_PREFIX}{email_key}"


PROMOTION_SK_PREFIX = "PROMOTED#"


def promotion_sk(email_key: str) -> str:
    return f"{PROMOTION_SK_PREFIX}{email_key}"


def registrant_gsi1sk(session_id: str) -> str:
    return f"SESSION#{session_id}"


def reference_gsi2sk(session_id: str) -> str:
    return f"SESSION#{session_id}"


WAITLIST_SEQUENCE = "waitlist_sequence"
"""The session META attribute numbering its waitlist entries (1, 2, ...), never reused."""


def waitlist_gsi2sk(submitted_at: datetime, sequence: int) -> str:
    """The waitlist order: request time (fixed width, to the microsecond the API gave: its
    milliseconds), then the per-session sequence (12 digits), so it sorts as text."""
    return f"{sortable_time(submitted_at)}#{sequence:012d}"


def sortable_time(moment: datetime) -> str:
    """A fixed-width UTC timestamp that sorts as text (microseconds always present)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


UPLOAD_SK = "UPLOAD"
QUARANTINE = "QUARANTINE"
MATERIALS_DUE = "MATERIALS_DUE"


def upload_pk(upload_id: str) -> str:
    return f"UPLOAD#{upload_id}"


def materials_gsi2pk(session_id: str) -> str:
    return f"MATERIALS#{session_id}"


SUPPRESSION_SK = "SUPPRESSION"
SUPPRESSIONS = "SUPPRESSIONS"


def suppression_pk(email_key: str) -> str:
    return f"SUPPRESSED#{email_key}"


ERASURE_SK = "ERASURE"


def erasure_pk(digest: str) -> str:
    return f"ERASED#{digest}"


def suppressions_gsi1sk(suppressed_at: datetime, email_key: str) -> str:
    return f"{sortable_time(suppressed_at)}#{email_key}"


ATTENDANCE_SK_PREFIX = "ATTENDANCE#"
ATTENDANCE_IMPORT_SK_PREFIX = "ATTENDANCE_IMPORT#"
ATTENDANCE_THRESHOLD_SK = "ATTENDANCE_THRESHOLD"
SERIES = "SERIES"


def attendance_sk(email_key: str) -> str:
    return f"{ATTENDANCE_SK_PREFIX}{email_key}"


def attendance_gsi1sk(session_id: str) -> str:
    return f"{ATTENDANCE_SK_PREFIX}{session_id}"


def attendance_import_sk(recorded_at: datetime, import_id: str) -> str:
    return f"{ATTENDANCE_IMPORT_SK_PREFIX}{sortable_time(recorded_at)}#{import_id}"


def cap_pk(scope: str, digest: str) -> str:
    return f"CAP#{scope}#{digest}"


def cap_sk(window_start: datetime) -> str:
    return sortable_time(window_start)


CERTIFICATE_SK = "CERTIFICATE"
CERTIFICATE_GSI1SK_PREFIX = "CERT#"
CERTIFIED_SK_PREFIX = "CERTIFIED#"


def certificate_pk(number: str) -> str:
    return f"CERT#{number}"


def certificate_gsi1sk(number: str) -> str:
    return f"{CERTIFICATE_GSI1SK_PREFIX}{number}"


def certificates_gsi2pk(session_id: str) -> str:
    return f"CERTIFICATES#{session_id}"


def certified_sk(email_key: str) -> str:
    return f"{CERTIFIED_SK_PREFIX}{email_key}"


AUTHORITIES = "AUTHORITIES"
ALIAS_SK_PREFIX = "ALIAS#"


def alias_sk(normalised: str) -> str:
    return f"{ALIAS_SK_PREFIX}{normalised}"


MESSAGE_SK = "MESSAGE"


def message_pk(message_id: str) -> str:
    return f"MESSAGE#{message_id}"
