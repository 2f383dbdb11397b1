//! Logging in: the account, its device, and the crypto store whose keys must be that
//! device's; then the device's keys brought to the server.

use super::client::{self, Client};
use super::rooms::server_of;
use super::{crypto, Settings};
use crate::store::Store;

/// Logs in on `keyed`, the device whose keys the crypto store holds, if it holds any: with
/// the access token (checked against MATRIX_USER and that device), or with the password. A
/// store without keys logs in on the stored device unless that device already has keys on
/// the server (another store's: they would clash), then on a new one. The device is stored;
/// the token is not. Returns the client and its device.
pub(super) async fn connect(
    store: &Store,
    s: &Settings,
    keyed: Option<&str>,
) -> Result<(Client, String), String> {
    if !s.user.starts_with('@') || server_of(&s.user).is_none() {
        return Err(format!(
            "MATRIX_USER must be a full user id such as @atlasbot:example.org, not {:?}",
            s.user
        ));
    }
    let client = Client::new(&s.homeserver).map_err(|e| e.to_string())?;
    let now = chrono::Utc::now();
    let (client, device) = match &s.access_token {
        Some(token) => connect_with_token(client.with_token(token.clone()), s, keyed).await?,
        None => connect_with_password(client, store, s, keyed).await?,
    };
    store
        .set_matrix_device(&s.user, &device, now)
        .await
        .map_err(|e| e.to_string())?;
    Ok((client, device))
}

/// The access token's device, if the token is MATRIX_USER's, is a device's, and that device
/// is the one whose keys the crypto store holds (or, for a store without keys, a device
/// without keys on the server).
async fn connect_with_token(
    client: Client,
    s: &Settings,
    keyed: Option<&str>,
) -> Result<(Client, String), String> {
    let who = client
        .whoami()
        .await
        .map_err(|e| format!("MATRIX_ACCESS_TOKEN was not accepted: {e}"))?;
    if who.user_id != s.user {
        return Err(format!(
            "MATRIX_ACCESS_TOKEN belongs to {}, not to MATRIX_USER {}",
            who.user_id, s.user
        ));
    }
    let device = who
        .device_id
        .ok_or("MATRIX_ACCESS_TOKEN is not a device's token (end-to-end encryption needs one)")?;
    if let Some(k) = keyed.filter(|k| *k != device) {
        return Err(format!(
            "MATRIX_CRYPTO_STORE holds the keys of device {k}, but MATRIX_ACCESS_TOKEN is for device {device}: use a token of {k}, or another MATRIX_CRYPTO_STORE"
        ));
    }
    if keyed.is_none() && crypto::device_has_keys(&client, &s.user, &device).await {
        // New keys for a device others know would look like an attack to their clients.
        return Err(format!(
            "MATRIX_ACCESS_TOKEN is for device {device}, which already has encryption keys that are not in MATRIX_CRYPTO_STORE (another client's, or a lost store): give the bot a token of its own device, or use MATRIX_PASSWORD"
        ));
    }
    Ok((client, device))
}

/// Logs in with the password on the keyed device, else the remembered one — unless a store
/// without keys would meet keys on the server there: then on a new device.
async fn connect_with_password(
    client: Client,
    store: &Store,
    s: &Settings,
    keyed: Option<&str>,
) -> Result<(Client, String), String> {
    let Some(password) = &s.password else {
        return Err("set MATRIX_PASSWORD or MATRIX_ACCESS_TOKEN in the environment".into());
    };
    let remembered = store
        .matrix_account(&s.user)
        .await
        .map_err(|e| e.to_string())?
        .device_id;
    let mut login = log_in(&client, s, password, keyed.or(remembered.as_deref())).await?;
    if keyed.is_none() {
        let token = client.clone().with_token(login.access_token.clone());
        if crypto::device_has_keys(&token, &s.user, &login.device_id).await {
            tracing::info!(device = %login.device_id, "that device's keys are in another crypto store; logging in on a new device");
            login = log_in(&client, s, password, None).await?;
        }
    }
    Ok((client.with_token(login.access_token), login.device_id))
}

/// Logs in with the password (on `device`, or a new one), as MATRIX_USER and no one else.
async fn log_in(
    client: &Client,
    s: &Settings,
    password: &str,
    device: Option<&str>,
) -> Result<client::Login, String> {
    let login = client
        .login(&s.user, password, device)
        .await
        .map_err(|e| format!("login as {} failed: {e}", s.user))?;
    if login.user_id != s.user {
        return Err(format!(
            "logged in as {}, but MATRIX_USER is {}",
            login.user_id, s.user
        ));
    }
    Ok(login)
}

/// Opens the crypto store, logs in on its device and brings the device's keys to the server.
pub(super) async fn start(store: &Store, s: &Settings) -> Result<(Client, crypto::Crypto), String> {
    let keys = crypto::OpenStore::open(&s.crypto_store, s.crypto_passphrase.as_deref()).await?;
    let keyed = keys.device().await?;
    let (client, device) = connect(store, s, keyed.as_deref()).await?;
    let crypto = crypto::Crypto::new(keys, &s.user, &device).await?;
    if let Err(e) = crypto.flush(&client).await {
        tracing::warn!(error = %e, "cannot upload the device's keys yet; retried at the next sync");
    }
    if let Some(key) = &s.recovery_key {
        crypto
            .cross_sign_own_device(&client, key, s.password.as_deref())
            .await
            .map_err(|e| format!("MATRIX_RECOVERY_KEY: {e}"))?;
    }
    tracing::info!(%device, key = %crypto.ed25519_key(), "end-to-end encryption ready");
    Ok((client, crypto))
}
