-- Every change to what an event owes (its times, cancellations, subscriptions, its space's
-- offsets) counts up `revision`; a plan is written only for the revision it was computed
-- from, so a planner that read an older event (another process, or a command racing the
-- scheduler) cannot overwrite a newer plan.
ALTER TABLE events ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
