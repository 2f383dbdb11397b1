//! HOW to say a `Reply` on each platform. Escaping and length limits live here, never in the
//! commands: plain text (the console, Matrix's `body`) and HTML (Matrix's `formatted_body`)
//! render the same `Reply` with no extra information.

pub mod html;
pub mod plain;
