"""Reads an iCalendar file with Python's icalendar and expands it with recurring-ical-events:
prints every occurrence between two UTC instants as `UID START_UTC STATUS`, sorted (with a
fourth argument `summary`: `SUMMARY|START_UTC|STATUS`). Used by tests/it/calendars.rs and
tests/it/sync.rs as an implementation independent of the bot's."""
import sys
from datetime import datetime, timezone

import icalendar
import recurring_ical_events

path, start, end = sys.argv[1], sys.argv[2], sys.argv[3]
by_summary = len(sys.argv) > 4 and sys.argv[4] == "summary"
with open(path, "rb") as f:
    cal = icalendar.Calendar.from_ical(f.read())
begin = datetime.fromisoformat(start.replace("Z", "+00:00"))
until = datetime.fromisoformat(end.replace("Z", "+00:00"))
lines = []
for ev in recurring_ical_events.of(cal).between(begin, until):
    at = ev["DTSTART"].dt.astimezone(timezone.utc)
    status = str(ev.get("STATUS", "CONFIRMED"))
    when = at.strftime('%Y-%m-%dT%H:%M:%SZ')
    if by_summary:
        lines.append(f"{ev['SUMMARY']}|{when}|{status}")
    else:
        lines.append(f"{ev['UID']} {when} {status}")
print("\n".join(sorted(lines)))
