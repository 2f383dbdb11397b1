//! Platforms: adapters that turn what a platform delivers into command lines and `Reply`s into
//! what it displays. They translate; the core (`commands`) decides.

pub mod console;
pub mod matrix;
