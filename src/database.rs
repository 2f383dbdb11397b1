//! The database a process runs on: opened, migrated, and holding an atlas — the bundled one
//! imported when there is none yet. Shared by the commands (`app`) and the benchmarks
//! (`bench`), so that both start exactly alike.

use crate::import::{self, DataDir};
use crate::store::{Location, Store};

/// Opens the database and makes sure it holds an atlas: the bundled one is imported when the
/// database has none yet, or holds an older bundled atlas than this binary carries (an atlas
/// imported from a directory is the operator's and is left alone). A new user never needs a
/// setup step.
pub async fn open_store(db: impl Into<Location>) -> anyhow::Result<Store> {
    let store = Store::open_at(&db.into()).await?;
    let origin = store.atlas_origin().await?;
    let version = store.atlas_version().await?;
    let stale_bundle = origin.as_deref() == Some("bundled")
        && version.as_deref() != Some(import::bundled_hash().as_str());
    if version.is_none() || stale_bundle {
        let (atlas, _) = import::read_atlas(&DataDir::Bundled).map_err(|problems| {
            let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
            anyhow::anyhow!("the bundled data does not import: {}", listed.join("; "))
        })?;
        tracing::info!(
            reason = if stale_bundle {
                "bundled data changed"
            } else {
                "new database"
            },
            "importing the bundled atlas"
        );
        store.replace_atlas(&atlas, "bundled").await?;
    }
    Ok(store)
}
