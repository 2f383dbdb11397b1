//! End-to-end encryption: matrix-sdk-crypto's state machine (`OlmMachine`), driven by our own
//! client. The machine decides (which keys to upload, whom to query, which sessions to
//! create, whom to share a room key with); this module carries its requests over HTTP and
//! hands it what the sync brings (to-device messages, device-list changes, key counts).
//!
//! Its state (the device's identity keys, Olm and Megolm sessions) lives in a SQLite store of
//! its own in a directory beside the database, one device per store: a restart keeps every
//! session, so nothing sent before it becomes undecryptable. The store is locked while open:
//! two processes on one store would advance the same ratchets apart.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use matrix_sdk_crypto::secret_storage::AesHmacSha2EncryptedData;
use matrix_sdk_crypto::secret_storage::SecretStorageKey;
use matrix_sdk_crypto::types::requests::{AnyOutgoingRequest, OutgoingRequest};
use matrix_sdk_crypto::CrossSigningKeyExport;
use matrix_sdk_crypto::{
    DecryptionSettings, EncryptionSettings, EncryptionSyncChanges, OlmMachine, TrustRequirement,
};
use ruma::api::client::keys::get_keys;
use ruma::api::client::to_device::send_event_to_device;
use ruma::events::secret::request::SecretName;
use ruma::events::secret_storage::key::SecretStorageKeyEventContent;
use ruma::serde::Raw;
use ruma::{OwnedRoomId, OwnedUserId};
use serde_json::Value;

/// The secrets that hold the account's cross-signing private keys.
const CROSS_SIGNING_SECRETS: [SecretName; 3] = [
    SecretName::CrossSigningMasterKey,
    SecretName::CrossSigningSelfSigningKey,
    SecretName::CrossSigningUserSigningKey,
];

use super::client::{Client, Event, MatrixError, Sync};
pub use crate::store::matrix_crypto::{default_store_path, OpenStore};

/// Why a message could not be decrypted, and what identifies it for a one-time notice.
#[derive(Debug)]
pub struct Undecryptable {
    pub session_id: String,
    pub why: String,
}

pub struct Crypto {
    olm: OlmMachine,
    /// One key share and encryption at a time: two at once into one room would each start a
    /// session, and a member could be left with the key of only one.
    sharing: tokio::sync::Mutex<()>,
    /// True in the process that syncs, which learns of new devices from the sync. Any other
    /// process asks the server for its members' devices before each encryption.
    syncing: AtomicBool,
    pub path: PathBuf,
    _lock: std::fs::File,
}

fn crypto_error(e: impl std::fmt::Display) -> MatrixError {
    MatrixError::Crypto(e.to_string())
}

fn decryption_settings() -> DecryptionSettings {
    // Any device of a member may ask: the bot answers questions about public knowledge and
    // reminds of the room's own events; a room's members decide who is in it.
    DecryptionSettings {
        sender_device_trust_requirement: TrustRequirement::Untrusted,
    }
}

fn raw<T>(v: &Value) -> Result<Raw<T>, MatrixError> {
    serde_json::value::to_raw_value(v)
        .map(Raw::from_json)
        .map_err(|e| MatrixError::Decode(e.to_string()))
}

fn user_ids(users: &[String]) -> Vec<OwnedUserId> {
    users
        .iter()
        .filter_map(|u| OwnedUserId::try_from(u.as_str()).ok())
        .collect()
}

fn as_user(u: &OwnedUserId) -> &ruma::UserId {
    u
}

fn room_id(room: &str) -> Result<OwnedRoomId, MatrixError> {
    OwnedRoomId::try_from(room).map_err(|e| MatrixError::Decode(format!("{room}: {e}")))
}

impl Crypto {
    /// The state machine of `user`'s `device`, on `store`.
    pub async fn new(store: OpenStore, user: &str, device: &str) -> Result<Crypto, String> {
        let user_id = OwnedUserId::try_from(user).map_err(|e| format!("{user}: {e}"))?;
        let device_id: ruma::OwnedDeviceId = device.into();
        let olm = OlmMachine::with_store(&user_id, &device_id, store.store, None)
            .await
            .map_err(|e| format!("MATRIX_CRYPTO_STORE {}: {e}", store.path.display()))?;
        Ok(Crypto {
            olm,
            sharing: Default::default(),
            syncing: AtomicBool::new(false),
            path: store.path,
            _lock: store._lock,
        })
    }

    pub fn device_id(&self) -> &str {
        self.olm.device_id().as_str()
    }

    /// The Ed25519 key identifying this device (what a person compares when verifying).
    pub fn ed25519_key(&self) -> String {
        self.olm.identity_keys().ed25519.to_base64()
    }

    pub fn olm(&self) -> &OlmMachine {
        &self.olm
    }

    /// This process syncs (and so hears of device changes from the sync).
    /// Whether this process leads the sync (and so hears of every member change).
    pub fn is_syncing(&self) -> bool {
        self.syncing.load(Ordering::Relaxed)
    }

    pub fn set_syncing(&self) {
        self.syncing.store(true, Ordering::Relaxed);
    }

    /// Sends every request the machine has waiting (key upload, key queries, to-device
    /// messages, signatures) and tells it each answer. A request that fails stays waiting and
    /// goes with the next call.
    pub async fn flush(&self, client: &Client) -> Result<(), MatrixError> {
        let requests = self.olm.outgoing_requests().await.map_err(crypto_error)?;
        let mut failed = None;
        for request in &requests {
            if let Err(e) = self.send(client, request).await {
                tracing::warn!(error = %e, "an encryption request failed; it is retried");
                failed = Some(e);
            }
        }
        failed.map_or(Ok(()), Err)
    }

    /// Sends to-device messages (room keys, Olm) and tells the machine request `id` went: the
    /// request loop and room-key sharing both make them. (The id is not always the
    /// transaction id: a verification answer keeps the id of the request it answers.)
    async fn send_to_device(
        &self,
        client: &Client,
        id: &ruma::TransactionId,
        r: &matrix_sdk_crypto::types::requests::ToDeviceRequest,
    ) -> Result<(), MatrixError> {
        let answer = client
            .send_ruma(send_event_to_device::v3::Request::new_raw(
                r.event_type.clone(),
                r.txn_id.clone(),
                r.messages.clone(),
            ))
            .await?;
        self.olm
            .mark_request_as_sent(id, &answer)
            .await
            .map_err(crypto_error)
    }

    async fn send(&self, client: &Client, request: &OutgoingRequest) -> Result<(), MatrixError> {
        let id = request.request_id();
        match request.request() {
            AnyOutgoingRequest::KeysUpload(r) => {
                let answer = client.send_ruma(r.clone()).await?;
                self.olm
                    .mark_request_as_sent(id, &answer)
                    .await
                    .map_err(crypto_error)
            }
            AnyOutgoingRequest::KeysQuery(r) => {
                let mut query = get_keys::v3::Request::new();
                query.device_keys = r.device_keys.clone();
                query.timeout = r.timeout;
                let answer = client.send_ruma(query).await?;
                self.olm
                    .mark_request_as_sent(id, &answer)
                    .await
                    .map_err(crypto_error)
            }
            AnyOutgoingRequest::KeysClaim(r) => {
                let answer = client.send_ruma(r.clone()).await?;
                self.olm
                    .mark_request_as_sent(id, &answer)
                    .await
                    .map_err(crypto_error)
            }
            AnyOutgoingRequest::ToDeviceRequest(r) => self.send_to_device(client, id, r).await,
            AnyOutgoingRequest::SignatureUpload(r) => {
                let answer = client.send_ruma(r.clone()).await?;
                self.olm
                    .mark_request_as_sent(id, &answer)
                    .await
                    .map_err(crypto_error)
            }
            AnyOutgoingRequest::RoomMessage(r) => {
                // Only in-room verification makes these; the bot starts none, but answers the
                // machine all the same so that the request does not wait forever.
                let content = serde_json::to_value(&r.content).map_err(crypto_error)?;
                let kind = ruma::events::MessageLikeEventContent::event_type(r.content.as_ref())
                    .to_string();
                let event_id = client
                    .send(r.room_id.as_str(), &kind, r.txn_id.as_str(), &content)
                    .await?;
                let event_id = ruma::OwnedEventId::try_from(event_id)
                    .map_err(|e| MatrixError::Decode(e.to_string()))?;
                let answer =
                    ruma::api::client::message::send_message_event::v3::Response::new(event_id);
                self.olm
                    .mark_request_as_sent(id, &answer)
                    .await
                    .map_err(crypto_error)
            }
        }
    }

    /// Hands the machine what a sync brought: room keys and other to-device messages, device
    /// changes, one-time key counts. Before the sync position is stored, so that a crash in
    /// between brings them again rather than losing them.
    pub async fn receive(&self, sync: &Sync) -> Result<(), MatrixError> {
        let to_device = sync
            .to_device
            .events
            .iter()
            .filter_map(|e| raw(&e.raw).ok())
            .collect();
        let changes = EncryptionSyncChanges {
            to_device_events: to_device,
            changed_devices: &sync.device_lists,
            one_time_keys_counts: &sync.device_one_time_keys_count,
            unused_fallback_keys: sync.device_unused_fallback_key_types.as_deref(),
            next_batch_token: Some(sync.next_batch.clone()),
        };
        self.olm
            .receive_sync_changes(changes, &decryption_settings())
            .await
            .map_err(crypto_error)?;
        Ok(())
    }

    /// The clear event inside an `m.room.encrypted` one: its own type and content, the
    /// envelope's sender and id; a relation left outside the encryption is kept.
    pub async fn decrypt(&self, room: &str, e: &Event) -> Result<Event, Undecryptable> {
        let session_id = e.content["session_id"].as_str().unwrap_or("").to_string();
        let undecryptable = |why: String| Undecryptable {
            session_id: session_id.clone(),
            why,
        };
        let room = room_id(room).map_err(|e| undecryptable(e.to_string()))?;
        let event = raw(&e.raw).map_err(|e| undecryptable(e.to_string()))?;
        let clear = self
            .olm
            .decrypt_room_event(&event, &room, &decryption_settings())
            .await
            .map_err(|e| undecryptable(e.to_string()))?;
        let mut clear: Event = serde_json::from_str(clear.event.json().get())
            .map_err(|e| undecryptable(format!("not an event: {e}")))?;
        if clear.content.get("m.relates_to").is_none() {
            if let Some(relation) = e.content.get("m.relates_to") {
                clear.content["m.relates_to"] = relation.clone();
            }
        }
        clear.sender = e.sender.clone();
        clear.event_id = e.event_id.clone();
        Ok(clear)
    }

    /// `content` of type `kind`, encrypted as the room's settings say for every device of
    /// `to`'s members (the room's joined and invited, `members::Members`): their
    /// devices are looked up, Olm sessions opened where missing, and the room key shared
    /// with whoever lacks it, before the content is encrypted with it.
    pub async fn encrypt(
        &self,
        client: &Client,
        room: &str,
        to: (&[String], EncryptionSettings),
        kind: &str,
        content: &Value,
    ) -> Result<Value, MatrixError> {
        let room_id = room_id(room)?;
        let (members, settings) = to;
        let _one_at_a_time = self.sharing.lock().await;
        let members = user_ids(members);
        let users = || members.iter().map(as_user);
        self.olm
            .update_tracked_users(users())
            .await
            .map_err(crypto_error)?;
        if !self.syncing.load(Ordering::Relaxed) {
            self.olm
                .mark_all_tracked_users_as_dirty()
                .await
                .map_err(crypto_error)?;
        }
        self.flush(client).await?;
        if let Some((id, claim)) = self
            .olm
            .get_missing_sessions(users())
            .await
            .map_err(crypto_error)?
        {
            let answer = client.send_ruma(claim).await?;
            self.olm
                .mark_request_as_sent(&id, &answer)
                .await
                .map_err(crypto_error)?;
        }
        let shares = self
            .olm
            .share_room_key(&room_id, users(), settings)
            .await
            .map_err(crypto_error)?;
        for share in shares {
            self.send_to_device(client, &share.txn_id, &share).await?;
        }
        let encrypted = self
            .olm
            .encrypt_room_event_raw(&room_id, kind, &raw(content)?)
            .await
            .map_err(crypto_error)?;
        serde_json::from_str(encrypted.content.json().get())
            .map_err(|e| MatrixError::Decode(e.to_string()))
    }

    /// Cross-signs this device with the account's cross-signing keys, which live in the
    /// account's secret storage, opened with `recovery` (a recovery key or passphrase): so
    /// that clients trusting only cross-signed devices share their keys with the bot, and a
    /// lost crypto store (a new device) is trusted again without anyone verifying it. An
    /// account with no secret storage yet gets one, keyed by `recovery`, with new
    /// cross-signing keys in it (`password` is asked for by some servers to publish them).
    pub async fn cross_sign_own_device(
        &self,
        client: &Client,
        recovery: &str,
        password: Option<&str>,
    ) -> Result<(), MatrixError> {
        let me = self.olm.user_id().to_owned();
        self.olm
            .update_tracked_users([me.as_ref()])
            .await
            .map_err(crypto_error)?;
        self.flush(client).await?;
        if self.is_cross_signed().await? {
            tracing::info!("this device is cross-signed");
            return Ok(());
        }
        match client
            .account_data(me.as_str(), "m.secret_storage.default_key")
            .await?
        {
            Some(default) => {
                let id = default["key"].as_str().unwrap_or_default();
                let key = self.open_secret_storage(client, id, recovery).await?;
                self.import_cross_signing_keys(client, &key).await?;
            }
            None => {
                self.create_secret_storage(client, recovery, password)
                    .await?
            }
        }
        self.sign_own_device(client).await?;
        tracing::info!("this device is now cross-signed");
        Ok(())
    }

    async fn is_cross_signed(&self) -> Result<bool, MatrixError> {
        let device = self
            .olm
            .get_device(self.olm.user_id(), self.olm.device_id(), None)
            .await
            .map_err(crypto_error)?;
        Ok(device.is_some_and(|d| d.is_cross_signed_by_owner()))
    }

    /// The secret storage key `id`, opened with `recovery` (refused if it is not that key's).
    async fn open_secret_storage(
        &self,
        client: &Client,
        id: &str,
        recovery: &str,
    ) -> Result<SecretStorageKey, MatrixError> {
        let user = self.olm.user_id().as_str();
        let kind = format!("m.secret_storage.key.{id}");
        let description = client
            .account_data(user, &kind)
            .await?
            .ok_or_else(|| crypto_error(format!("the account's secret storage has no {kind}")))?;
        let description = serde_json::value::to_raw_value(&description).map_err(crypto_error)?;
        let content =
            <SecretStorageKeyEventContent as ruma::events::EventContentFromType>::from_parts(
                &kind,
                &description,
            )
            .map_err(|e| crypto_error(format!("{kind} is not understood: {e}")))?;
        SecretStorageKey::from_account_data(recovery, content).map_err(|_| {
            crypto_error("it does not open this account's secret storage (wrong key?)")
        })
    }

    /// The cross-signing private keys, read from secret storage into the machine.
    async fn import_cross_signing_keys(
        &self,
        client: &Client,
        key: &SecretStorageKey,
    ) -> Result<(), MatrixError> {
        let user = self.olm.user_id().as_str();
        let mut export = CrossSigningKeyExport {
            master_key: None,
            self_signing_key: None,
            user_signing_key: None,
        };
        for name in CROSS_SIGNING_SECRETS {
            let Some(stored) = client.account_data(user, name.as_str()).await? else {
                continue;
            };
            let data: AesHmacSha2EncryptedData =
                serde_json::from_value(stored["encrypted"][key.key_id()].clone()).map_err(|e| {
                    crypto_error(format!(
                        "{} is not encrypted with this key: {e}",
                        name.as_str()
                    ))
                })?;
            let secret = key
                .decrypt(&data, &name)
                .map_err(|_| crypto_error(format!("{} does not decrypt", name.as_str())))?;
            let secret = String::from_utf8(secret).map_err(crypto_error)?;
            match name {
                SecretName::CrossSigningMasterKey => export.master_key = Some(secret),
                SecretName::CrossSigningSelfSigningKey => export.self_signing_key = Some(secret),
                _ => export.user_signing_key = Some(secret),
            }
        }
        self.olm
            .import_cross_signing_keys(export)
            .await
            .map_err(|e| {
                crypto_error(format!("the stored cross-signing keys do not fit: {e:?}"))
            })?;
        Ok(())
    }

    /// New cross-signing keys, published, and kept in a new secret storage keyed by
    /// `recovery` (the account had none).
    async fn create_secret_storage(
        &self,
        client: &Client,
        recovery: &str,
        password: Option<&str>,
    ) -> Result<(), MatrixError> {
        let user = self.olm.user_id().as_str();
        tracing::info!("the account has no secret storage: creating cross-signing keys in one");
        let bootstrap = self
            .olm
            .bootstrap_cross_signing(false)
            .await
            .map_err(crypto_error)?;
        if let Some(upload) = &bootstrap.upload_keys_req {
            self.send(client, upload).await?;
        }
        let keys = &bootstrap.upload_signing_keys_req;
        let body = serde_json::json!({
            "master_key": keys.master_key,
            "self_signing_key": keys.self_signing_key,
            "user_signing_key": keys.user_signing_key,
        });
        client.upload_signing_keys(user, &body, password).await?;
        client
            .send_ruma(bootstrap.upload_signatures_req.clone())
            .await?;
        let key = SecretStorageKey::new_from_passphrase(recovery);
        let export = self
            .olm
            .export_cross_signing_keys()
            .await
            .map_err(crypto_error)?
            .ok_or_else(|| crypto_error("no cross-signing keys to store"))?;
        for (name, secret) in [
            (SecretName::CrossSigningMasterKey, &export.master_key),
            (
                SecretName::CrossSigningSelfSigningKey,
                &export.self_signing_key,
            ),
            (
                SecretName::CrossSigningUserSigningKey,
                &export.user_signing_key,
            ),
        ] {
            let Some(secret) = secret else { continue };
            let data = key.encrypt(secret.clone().into_bytes(), &name);
            let content = serde_json::json!({"encrypted": {key.key_id(): data}});
            client
                .set_account_data(user, name.as_str(), &content)
                .await?;
        }
        let description = serde_json::to_value(key.event_content()).map_err(crypto_error)?;
        let kind = format!("m.secret_storage.key.{}", key.key_id());
        client.set_account_data(user, &kind, &description).await?;
        let default = serde_json::json!({"key": key.key_id()});
        client
            .set_account_data(user, "m.secret_storage.default_key", &default)
            .await
    }

    /// Signs this device with the self-signing key and publishes the signature.
    async fn sign_own_device(&self, client: &Client) -> Result<(), MatrixError> {
        let device = self
            .olm
            .get_device(self.olm.user_id(), self.olm.device_id(), None)
            .await
            .map_err(crypto_error)?
            .ok_or_else(|| crypto_error("this device's keys are not on the server yet"))?;
        let signature = device.verify().await.map_err(crypto_error)?;
        client.send_ruma(signature).await?;
        Ok(())
    }
}

/// How many devices of `user` have published keys (0: a client that does not encrypt).
pub async fn devices_with_keys(client: &Client, user: &str) -> Result<usize, MatrixError> {
    let user_id = OwnedUserId::try_from(user).map_err(|e| MatrixError::Decode(e.to_string()))?;
    let mut query = get_keys::v3::Request::new();
    query.device_keys = [(user_id.clone(), vec![])].into();
    let answer = client.send_ruma(query).await?;
    Ok(answer.device_keys.get(&user_id).map_or(0, |d| d.len()))
}

/// Whether the server holds keys for `user`'s `device` (uploaded by some crypto store).
pub async fn device_has_keys(client: &Client, user: &str, device: &str) -> bool {
    let Ok(user_id) = OwnedUserId::try_from(user) else {
        return false;
    };
    let device_id: ruma::OwnedDeviceId = device.into();
    let mut query = get_keys::v3::Request::new();
    query.device_keys = [(user_id.clone(), vec![device_id.clone()])].into();
    match client.send_ruma(query).await {
        Ok(answer) => answer
            .device_keys
            .get(&user_id)
            .is_some_and(|d| d.contains_key(&device_id)),
        Err(e) => {
            tracing::warn!(error = %e, "cannot ask which keys the device has");
            false
        }
    }
}

/// A file encrypted for an encrypted room: the ciphertext to upload and the `file` object
/// (key, iv, hashes; the caller adds the `url`) that lets members decrypt it.
pub fn encrypt_attachment(clear: &[u8]) -> Result<(Vec<u8>, Value), String> {
    use std::io::Read;
    let mut reader = clear;
    let mut encryptor = matrix_sdk_crypto::AttachmentEncryptor::new(&mut reader);
    let mut ciphertext = Vec::with_capacity(clear.len());
    encryptor
        .read_to_end(&mut ciphertext)
        .map_err(|e| e.to_string())?;
    let info = encryptor.finish();
    let file = serde_json::to_value(&info).map_err(|e| e.to_string())?;
    Ok((ciphertext, file))
}
