"""Sources and detail types of the events our own code publishes.

Lambda code imports them from here (``infra/`` is not shipped to Lambda); the wiring
declaration re-exports them.
"""

SOURCE_REGISTRATIONS = "kbs.registrations"
SOURCE_SESSIONS = "kbs.sessions"

REGISTRATION_SUBMITTED = "Registration Submitted"
REGISTRATION_CONFIRMED = "Registration Confirmed"
REGISTRATION_WAITLISTED = "Registration Waitlisted"
SESSION_SCHEDULED = "Session Scheduled"
SESSION_UPDATED = "Session Updated"
SESSION_CANCELLED = "Session Cancelled"
SESSION_STARTED = "Session Started"
SESSION_ENDED = "Session Ended"
