//! The Matrix adapter's crypto store: matrix-sdk-crypto's own SQLite store (its schema and
//! SQL are the SDK's), in a directory beside the database, one device per store, locked while
//! open — two processes on one store would advance the same ratchets apart. Opened here, like
//! every other database, and handed to `platform::matrix::crypto` to drive.

use std::path::{Path, PathBuf};

use matrix_sdk_crypto::store::CryptoStore;
use matrix_sdk_sqlite::SqliteCryptoStore;

/// Where the crypto store of a bot whose state is at `database` lives by default: beside it.
pub fn default_store_path(database: &Path) -> PathBuf {
    let mut name = database
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".matrix-crypto");
    database.with_file_name(name)
}

/// A crypto store, opened and locked, before its device is known.
pub struct OpenStore {
    pub(crate) store: SqliteCryptoStore,
    pub(crate) path: PathBuf,
    /// Held, never read: the lock lasts as long as the store is open.
    pub(crate) _lock: std::fs::File,
}

impl OpenStore {
    /// Opens (creating) the store at `path`, encrypted at rest with `passphrase` if given.
    pub async fn open(path: &Path, passphrase: Option<&str>) -> Result<OpenStore, String> {
        let lock = lock_dir(path)?;
        let store = SqliteCryptoStore::open(path, passphrase)
            .await
            .map_err(|e| {
                format!(
                    "MATRIX_CRYPTO_STORE {}: cannot open the crypto store: {e}",
                    path.display()
                )
            })?;
        Ok(OpenStore {
            store,
            path: path.to_path_buf(),
            _lock: lock,
        })
    }

    /// The device whose keys this store holds, if it holds any.
    pub async fn device(&self) -> Result<Option<String>, String> {
        let account = self
            .store
            .load_account()
            .await
            .map_err(|e| format!("cannot read the crypto store: {e}"))?;
        Ok(account.map(|a| a.device_id().to_string()))
    }
}

/// An exclusive lock on the store's directory, held while the store is open.
fn lock_dir(path: &Path) -> Result<std::fs::File, String> {
    std::fs::create_dir_all(path)
        .map_err(|e| format!("MATRIX_CRYPTO_STORE {}: {e}", path.display()))?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path.join("atlasbot.lock"))
        .map_err(|e| format!("MATRIX_CRYPTO_STORE {}: {e}", path.display()))?;
    file.try_lock().map_err(|_| {
        format!(
            "MATRIX_CRYPTO_STORE {} is in use by another process: give each bot process its own",
            path.display()
        )
    })?;
    Ok(file)
}
