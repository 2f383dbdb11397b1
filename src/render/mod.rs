//! HOW to say a `Reply` on each platform. Escaping and length limits live here, never in the
//! commands. This renderer is plain text (console); Discord embeds and Matrix HTML
//! render the same `Reply` with no extra information.

pub mod plain;
