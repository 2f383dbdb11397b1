//! The sync loop: one process leads it for the account, asks the homeserver for what is new,
//! and says what each batch means — keys, invitations, joined rooms, rooms left, and in each
//! room's timeline the new events (commands, reactions), history skipped.

use std::process::ExitCode;
use std::time::Duration;

use super::client::{Event, JoinedRoom, MatrixError, Sync};
use super::login::connect;
use super::room_commands::command_in;
use super::{Bot, Settings};

/// Only what the bot reacts to: no presence, receipts, typing or account data; state and
/// timeline limited to the event types it reads.
const FILTER: &str = r#"{"presence":{"types":[]},"account_data":{"types":[]},"room":{"ephemeral":{"types":[]},"account_data":{"types":[]},"state":{"types":["m.room.create","m.room.power_levels","m.room.encryption","m.room.history_visibility"]},"timeline":{"limit":50,"types":["m.room.message","m.room.member","m.room.encrypted","m.room.encryption","m.room.history_visibility","m.room.power_levels","m.room.create","m.reaction","m.room.redaction"]}}}"#;
const SYNC_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the sync returns while messages wait for their keys.
const KEY_WAIT_SYNC: Duration = Duration::from_secs(2);

/// Whether `e` is the bot joining (not a profile change of an existing member).
fn is_own_join(e: &Event, me: &str) -> bool {
    e.kind == "m.room.member"
        && e.state_key.as_deref() == Some(me)
        && e.content["membership"].as_str() == Some("join")
        && e.unsigned["prev_content"]["membership"].as_str() != Some("join")
}

/// Waits to lead this account's sync loop (one process of a cluster does; the others deliver
/// reminders meanwhile and take over when it dies). None: shut down while waiting.
pub(super) async fn lead(
    store: &crate::store::Store,
    me: &str,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> Result<Option<crate::store::SyncLead>, crate::store::StoreError> {
    let waiting = tokio::time::sleep(Duration::from_secs(1));
    tokio::pin!(waiting);
    let taking = store.lead_matrix_sync(me);
    tokio::pin!(taking);
    loop {
        tokio::select! {
            lead = &mut taking => {
                tracing::info!(user = %me, "leading the sync loop");
                return lead.map(Some);
            }
            _ = &mut waiting, if !waiting.is_elapsed() => {
                tracing::info!(user = %me, "another process syncs this account; waiting to take over");
            }
            _ = stopped.changed() => return Ok(None),
        }
    }
}

/// The longest wait between failed syncs or logins.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The next wait after another failure: twice as long, up to `MAX_BACKOFF`.
fn longer(backoff: Duration) -> Duration {
    (backoff * 2).min(MAX_BACKOFF)
}

impl Bot {
    /// Syncs from the stored position until shut down (success) or until it cannot go on:
    /// the position unreadable, the lead lost, the access token dead (failure).
    pub(super) async fn sync_loop(
        &self,
        settings: &Settings,
        mut lead: crate::store::SyncLead,
        mut stopped: tokio::sync::watch::Receiver<bool>,
    ) -> ExitCode {
        let mut since = match self.ctx.store.matrix_account(&self.me).await {
            Ok(a) => a.next_batch,
            Err(e) => {
                eprintln!("atlasbot matrix: cannot read the sync position: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut backoff = Duration::from_secs(1);
        self.crypto.set_syncing();
        loop {
            if *stopped.borrow() {
                return ExitCode::SUCCESS;
            }
            if !lead.holds().await {
                // Another process may be syncing now: handling the same batch twice would
                // answer twice. Exit, for a supervisor to restart us as a follower.
                eprintln!("atlasbot matrix: lost the lead of the sync loop (database connection); exiting");
                return ExitCode::FAILURE;
            }
            let first = since.is_none();
            let timeout = self.sync_timeout(first);
            let client = self.client.get();
            let result = tokio::select! {
                r = client.sync(since.as_deref(), timeout, FILTER) => r,
                _ = stopped.changed() => return ExitCode::SUCCESS,
            };
            match result {
                Ok(batch) => {
                    backoff = Duration::from_secs(1);
                    self.take_batch(&batch, first).await;
                    since = Some(batch.next_batch);
                }
                Err(e) if e.errcode() == Some("M_UNKNOWN_TOKEN") => {
                    if let Err(code) = self.log_in_again(settings, &e, &mut backoff).await {
                        return code;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, wait_s = backoff.as_secs(), "sync failed; retrying");
                    if !back_off(&mut backoff, &mut stopped).await {
                        return ExitCode::SUCCESS;
                    }
                }
            }
        }
    }

    /// How long the homeserver may hold a sync: not at all on the very first (it is only
    /// history), briefly while messages wait for their keys, long otherwise.
    fn sync_timeout(&self, first: bool) -> Duration {
        match (first, self.waiting.lock().expect("not poisoned").is_empty()) {
            (true, _) => Duration::ZERO,
            (false, true) => SYNC_TIMEOUT,
            (false, false) => KEY_WAIT_SYNC,
        }
    }

    /// Handles a batch, then stores the position after it (so a restart does not replay it).
    async fn take_batch(&self, batch: &Sync, first: bool) {
        self.handle(batch, first).await;
        if let Err(e) = self
            .ctx
            .store
            .set_matrix_next_batch(&self.me, &batch.next_batch, chrono::Utc::now())
            .await
        {
            tracing::error!(error = %e, "cannot store the sync position");
        }
    }

    /// A new access token after the homeserver dropped ours: by password (a token given in
    /// the environment cannot be renewed — then the loop gives up with `Err`). A failed login
    /// is waited out and tried again at the next turn.
    async fn log_in_again(
        &self,
        settings: &Settings,
        e: &MatrixError,
        backoff: &mut Duration,
    ) -> Result<(), ExitCode> {
        if settings.password.is_none() {
            eprintln!("atlasbot matrix: the access token is no longer valid ({e}); set a new MATRIX_ACCESS_TOKEN");
            return Err(ExitCode::FAILURE);
        }
        tracing::warn!("access token expired; logging in again");
        match connect(&self.ctx.store, settings, Some(self.crypto.device_id())).await {
            Ok((c, _)) => self.client.set(c),
            Err(err) => {
                tracing::error!(error = %err, "login failed; retrying");
                tokio::time::sleep(*backoff).await;
                *backoff = longer(*backoff);
            }
        }
        Ok(())
    }

    /// One sync batch: keys first (a message's room key often comes with it), then
    /// invitations, each joined room, rooms left, and messages that waited for keys.
    async fn handle(&self, batch: &Sync, first: bool) {
        let client = self.client.get();
        if let Err(e) = self.crypto.receive(batch).await {
            tracing::error!(error = %e, "cannot take in the sync's keys");
        }
        if let Err(e) = self.crypto.flush(&client).await {
            tracing::warn!(error = %e, "encryption requests failed; retried at the next sync");
        }
        for (room, invited) in &batch.rooms.invite {
            self.on_invite(room, &invited.invite_state.events).await;
        }
        for (room, joined) in &batch.rooms.join {
            self.on_room(room, joined, first).await;
        }
        for room in batch.rooms.leave.keys() {
            tracing::info!(%room, "left the room");
            self.forget_room(room).await;
        }
        if !first {
            self.retry_waiting().await;
        }
    }

    /// A joined room's part of the batch: its power and encryption learnt, the room recorded,
    /// a direct room's person gone noticed, then each new event after the bot's own join.
    async fn on_room(&self, room: &str, joined: &JoinedRoom, first: bool) {
        let all = || {
            joined
                .state
                .events
                .iter()
                .chain(joined.timeline.events.iter())
        };
        self.learn_power(room, all()).await;
        if all().any(|e| matches!(e.kind.as_str(), "m.room.encryption" | "m.room.encrypted")) {
            self.encrypted
                .lock()
                .expect("not poisoned")
                .insert(room.to_string(), true);
        }
        if all().any(|e| {
            matches!(
                e.kind.as_str(),
                "m.room.encryption" | "m.room.history_visibility"
            )
        }) {
            // Its settings changed: read them again before the next message.
            self.encryption.lock().expect("not poisoned").remove(room);
        }
        self.members
            .follow(room, &joined.timeline.events, joined.timeline.limited);
        self.record_room(room).await;
        self.on_direct_room_left(room, &joined.timeline.events)
            .await;
        if first {
            // The first sync of a new device is history: nothing in it is answered.
            return;
        }
        let events = &joined.timeline.events;
        let start = events
            .iter()
            .rposition(|e| is_own_join(e, &self.me))
            .map_or(0, |i| i + 1);
        for e in &events[start..] {
            self.on_event(room, e).await;
        }
    }

    /// One new event of a room's timeline, decrypted first if it is encrypted; one whose key
    /// has not come yet waits for it (`retry_waiting`).
    async fn on_event(&self, room: &str, e: &Event) {
        if e.kind != "m.room.encrypted" {
            return self.on_clear_event(room, e).await;
        }
        if e.sender == self.me {
            return;
        }
        match self.crypto.decrypt(room, e).await {
            Ok(clear) => self.on_clear_event(room, &clear).await,
            Err(why) => self.wait_for_key(room, e, &why),
        }
    }

    /// An event in clear (sent so, or decrypted): a command is answered, a reaction or its
    /// removal (un)subscribes; the bot's own events and anything else are ignored.
    pub(super) async fn on_clear_event(&self, room: &str, e: &Event) {
        if let Some(line) = command_in(e, &self.me) {
            return self.on_command(room, e, &line).await;
        }
        if e.sender == self.me {
            return;
        }
        match e.kind.as_str() {
            "m.reaction" => self.on_reaction(room, e).await,
            "m.room.redaction" => self.on_redaction(e).await,
            _ => {}
        }
    }
}

/// Waits out `backoff` after a failed sync, and doubles it for the next failure; false: shut
/// down while waiting.
async fn back_off(
    backoff: &mut Duration,
    stopped: &mut tokio::sync::watch::Receiver<bool>,
) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(*backoff) => {}
        _ = stopped.changed() => return false,
    }
    *backoff = longer(*backoff);
    true
}
