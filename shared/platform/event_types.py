"""Sources and detail types of the events our own code publishes (and of the S3 events it
consumes, with the materials bucket's key layout their patterns name).

Lambda code imports them from here (``infra/`` is not shipped to Lambda); the wiring
declaration re-exports them.
"""

SOURCE_REGISTRATIONS = "kbs.registrations"
SOURCE_SESSIONS = "kbs.sessions"
SOURCE_ATTENDANCE = "kbs.attendance"

REGISTRATION_SUBMITTED = "Registration Submitted"
REGISTRATION_CONFIRMED = "Registration Confirmed"
REGISTRATION_WAITLISTED = "Registration Waitlisted"
REGISTRATION_CANCELLED = "Registration Cancelled"
SESSION_SCHEDULED = "Session Scheduled"
SESSION_UPDATED = "Session Updated"
SESSION_CANCELLED = "Session Cancelled"
SESSION_STARTED = "Session Started"
SESSION_ENDED = "Session Ended"
ATTENDANCE_RECORDED = "Attendance Recorded"

AWS_S3 = "aws.s3"  # not ours: S3 publishes it on the default bus
OBJECT_CREATED = "Object Created"
# Organisers upload materials under sessions/{session_id}/{slides|guidance}/{file name};
# rejected uploads are moved under quarantine/ (outside the prefix: no event).
MATERIALS_PREFIX = "sessions/"
MATERIAL_KINDS = ("slides", "guidance")
QUARANTINE_PREFIX = "quarantine/"
CERTIFICATES_PREFIX = "certificates/"
"""Certificates' and transcripts' PDFs in the private bucket (:mod:`shared.certificates`)."""

AWS_SES = "aws.ses"  # not ours: the configuration set's event destination, on the default bus
EMAIL_BOUNCED = "Email Bounced"
EMAIL_COMPLAINED = "Email Complaint Received"
EMAIL_REJECTED = "Email Rejected"
