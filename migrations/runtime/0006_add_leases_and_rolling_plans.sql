-- Claims carry an owner and a lease: a process takes over another's claimed reminders only
-- when the lease has run out or the owner is known to be dead, so processes started side by
-- side never send again what another is delivering.
ALTER TABLE reminders ADD COLUMN claimed_by TEXT;
ALTER TABLE reminders ADD COLUMN lease_until TEXT;

-- A rolling plan: every reminder an event owes that falls due before `planned_until` is in
-- `reminders`; the scheduler moves the mark forward as time passes, so that every occurrence
-- gets its reminders however far ahead it lies, with a bounded number of rows at any time.
-- NULL: not planned yet (events from before this migration are planned at the next start).
ALTER TABLE events ADD COLUMN planned_until TEXT;
CREATE INDEX events_planned_until ON events (cancelled, planned_until);
