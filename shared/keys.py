"""Single-table layout: every key is built here, so the access patterns live in one place.

Access patterns (all Query or GetItem, never Scan):

| pattern                              | how                                                     |
|--------------------------------------|---------------------------------------------------------|
| a session and its counters           | GetItem  PK=SESSION#{id}  SK=META                       |
| the programme in start order         | Query GSI1  GSI1PK=PROGRAMME  (GSI1SK = start ISO UTC)  |
| registrations of a session           | Query    PK=SESSION#{id}  SK begins_with REG#           |
| one registrant in one session        | GetItem  PK=SESSION#{id}  SK=REG#{email}                |
| a registrant's registrations (email) | Query GSI1  GSI1PK=REGISTRANT#{email}                   |
| registrations by reference           | Query GSI2  GSI2PK=REF#{reference}                      |
| the waitlist of a session, in order  | Query GSI2  GSI2PK=WAITLIST#{id}  (GSI2SK = joined at)  |
| an email already sent (send-once)    | GetItem  PK=EMAIL#{key}  SK=EMAIL                       |

Email addresses in keys are always the canonical lower-case form.
"""

from __future__ import annotations

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
