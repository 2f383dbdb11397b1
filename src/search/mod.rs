//! Matching what people type against the atlas: normalisation shared with the importer, and
//! standard identifiers in all their spellings. No SQL here (that is `store`), no replies.

pub mod normalize;
pub mod standard_id;
