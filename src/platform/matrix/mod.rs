//! Matrix: the bot in rooms. Text commands (`!actor WIPO`, or `/actor WIPO` sent as text) go
//! to the same core as the console; answers are `m.notice` replies with HTML; reminders are
//! `m.text` sent with the reminder's key as transaction id. In end-to-end encrypted rooms
//! commands are decrypted and everything the bot says is encrypted (`crypto`); a 👍 on an
//! event card or reminder subscribes to personal reminders, removing it unsubscribes.
//!
//! What a restart must not do, and how it is prevented:
//! - replay commands: the sync position is stored after each handled batch, and replies are
//!   sent with a transaction id derived from the command's event id — a batch handled twice
//!   (a crash before the position was stored) answers once;
//! - answer history: in a room's timeline, everything up to the bot's own join is skipped,
//!   and on the very first sync (no stored position) nothing is answered at all;
//! - send a reminder twice: the scheduler's key is the transaction id, and the device (to
//!   which homeservers scope transaction ids) is stored and reused.
//!
//! The parts, in the order a sync meets them:
//! - `login`: the account, its device, and the crypto store that must match it;
//! - `sync`: the sync loop (led by one process), what each batch and event means;
//! - `rooms`: invitations, rooms joined and left, direct rooms for personal reminders;
//! - `power`: who is a moderator (power levels, room creators);
//! - `room_commands`: which messages are commands, and answering them;
//! - `reactions`: 👍 as a "remind me" button;
//! - `decryption`: messages waiting for their room key, explained when it never comes;
//! - `messages`: what the bot says, as Matrix content, and sending it (encrypted where needed);
//! - `outbox`: reminders from the scheduler, delivered to rooms and people;
//! - `client` (the HTTP API) and `crypto` (the encryption state machine) under them all.

pub mod client;
pub mod crypto;
mod decryption;
mod login;
mod members;
mod messages;
mod outbox;
mod power;
mod reactions;
mod room_commands;
mod rooms;
mod sync;

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};

use self::client::Client;
use self::decryption::Waiting;
use self::login::start;
use self::outbox::MatrixOutbox;
use self::power::RoomPower;
use self::sync::lead;
use crate::commands::Context;

pub use self::messages::message_content;
pub use self::room_commands::command_in;

/// What `atlasbot matrix` needs to know (read by `config`, secrets from the environment).
pub struct Settings {
    pub homeserver: String,
    pub user: String,
    pub password: Option<String>,
    pub access_token: Option<String>,
    /// Servers whose users may invite the bot; empty: any.
    pub allowed_servers: Vec<String>,
    /// The end-to-end encryption store's directory, and its passphrase (a secret).
    pub crypto_store: std::path::PathBuf,
    pub crypto_passphrase: Option<String>,
    /// The account's recovery key (a secret): with it the bot cross-signs its own device.
    pub recovery_key: Option<String>,
}

/// The client, replaced after a re-login; shared by the sync loop and the outbox.
#[derive(Clone)]
struct Shared(Arc<RwLock<Client>>);

impl Shared {
    fn get(&self) -> Client {
        self.0.read().expect("not poisoned").clone()
    }

    fn set(&self, c: Client) {
        *self.0.write().expect("not poisoned") = c;
    }
}

/// The bot in its rooms: what the sync loop, the outbox and every part above share.
struct Bot {
    ctx: Context,
    client: Shared,
    me: String,
    allowed_servers: Vec<String>,
    power: tokio::sync::Mutex<HashMap<String, RoomPower>>,
    /// Rooms recorded in the database by this process (so a busy room costs no query per sync).
    recorded: std::sync::Mutex<std::collections::HashSet<String>>,
    crypto: Arc<crypto::Crypto>,
    /// Whether each room seen is encrypted (once encrypted, a room stays so).
    encrypted: std::sync::Mutex<HashMap<String, bool>>,
    /// Who each encrypted room's messages are encrypted for.
    members: members::Members,
    /// How each encrypted room's messages are encrypted (its rotation settings).
    encryption: std::sync::Mutex<HashMap<String, matrix_sdk_crypto::EncryptionSettings>>,
    waiting: std::sync::Mutex<Vec<Waiting>>,
}

impl Bot {
    /// The bot as `me`, logged in as `client`, with its device's `crypto` (invitations from
    /// no server accepted until `allowed_servers` is set).
    fn new(ctx: &Context, client: Client, me: &str, crypto: crypto::Crypto) -> Bot {
        Bot {
            ctx: ctx.clone(),
            client: Shared(Arc::new(RwLock::new(client))),
            me: me.to_string(),
            allowed_servers: Vec::new(),
            power: Default::default(),
            recorded: Default::default(),
            crypto: Arc::new(crypto),
            encrypted: Default::default(),
            members: Default::default(),
            encryption: Default::default(),
            waiting: Default::default(),
        }
    }
}

/// Where reminders leave through Matrix, for `me` logged in as `client`, without the sync
/// loop: for `bench delivery --platform matrix` and tests (`run` builds the same).
pub fn outbox(
    ctx: &Context,
    client: Client,
    me: &str,
    crypto: crypto::Crypto,
) -> Arc<dyn crate::scheduler::Outbox> {
    Arc::new(MatrixOutbox {
        bot: Arc::new(Bot::new(ctx, client, me, crypto)),
    })
}

/// `atlasbot matrix`: logs in, starts the scheduler once, then syncs until SIGINT/SIGTERM.
pub async fn run(ctx: Context, settings: Settings) -> ExitCode {
    let (client, crypto) = match start(&ctx.store, &settings).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("atlasbot matrix: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bot = Bot::new(&ctx, client, &settings.user, crypto);
    let bot = Arc::new(Bot {
        allowed_servers: settings.allowed_servers.clone(),
        ..bot
    });
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(shutdown_on_signal(stop));
    // Started once, at start-up — not on a sync, not per room.
    let outbox = Arc::new(MatrixOutbox { bot: bot.clone() });
    let reminders = super::start_reminders(
        &ctx,
        crate::domain::Platform::Matrix,
        outbox,
        stopped.clone(),
    );
    tracing::info!(user = %bot.me, "connected to Matrix");
    let code = match lead(&ctx.store, &bot.me, stopped.clone()).await {
        Ok(Some(lead)) => bot.sync_loop(&settings, lead, stopped).await,
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("atlasbot matrix: cannot take the lead of the sync loop: {e}");
            ExitCode::FAILURE
        }
    };
    super::finish_reminders(reminders).await;
    code
}

async fn shutdown_on_signal(stop: tokio::sync::watch::Sender<bool>) {
    super::shutdown_signal().await;
    let _ = stop.send(true);
}
