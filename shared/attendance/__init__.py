"""Attendance: reading the reports webinar platforms export, merging each person's joins,
matching them to registrations, thresholds, the attendance records and their import audit."""
