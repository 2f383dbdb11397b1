//! HOW to say a `Reply` on each platform. Escaping and length limits live here, never in the
//! commands: plain text (the console, Matrix's `body`), HTML (Matrix's `formatted_body`) and
//! Discord embeds render the same `Reply` with no extra information.

pub mod discord;
pub mod html;
pub mod plain;
