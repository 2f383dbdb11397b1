//! Following external calendars: a space's moderators name an iCalendar feed and the bot
//! mirrors its events (by UID, only the events this sync owns) and reminds from them like any
//! other. `fetch` is the one HTTP client for a hostile URL; `poll` claims feeds that are due
//! (once per interval across processes), fetches, mirrors and records the outcome.

pub mod fetch;
pub mod poll;
