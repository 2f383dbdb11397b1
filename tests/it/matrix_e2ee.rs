//! The bot in end-to-end encrypted rooms, against a real Synapse, with Alice on an encrypting
//! client of her own: her own device, keys and Olm/Megolm sessions (matrix-sdk-crypto's state
//! machine, driven over plain HTTP). The homeserver only ever sees ciphertext; Alice decrypts
//! what the bot says with the keys the bot shared with her device.

use super::{wait_until_member, Bot, Homeserver, Person, BOT};
use atlasbot::domain::{EventId, ReminderState};
use atlasbot::platform::matrix::client::{Client, Event};
use atlasbot::platform::matrix::crypto::{Crypto, OpenStore};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{self, TempDb};

/// A person whose client encrypts.
struct Encrypting {
    person: Person,
    client: Client,
    crypto: Crypto,
    since: Option<String>,
    /// Every event seen so far, decrypted where it was encrypted, with its room and whether
    /// it came encrypted.
    seen: Vec<(String, Event, bool)>,
    /// Encrypted events whose keys have not come yet.
    pending: Vec<(String, Event)>,
    _dir: tempfile::TempDir,
}

impl Encrypting {
    async fn login(hs: &Homeserver, user: &str, password: &str) -> Encrypting {
        let person = Person::login(hs, user, password).await;
        let dir = tempfile::tempdir().unwrap();
        let store = OpenStore::open(dir.path(), None).await.unwrap();
        let crypto = Crypto::new(store, &person.id, &person.device)
            .await
            .unwrap();
        crypto.set_syncing();
        let client = Client::new(&hs.base)
            .unwrap()
            .with_token(person.token.clone());
        crypto.flush(&client).await.unwrap();
        Encrypting {
            person,
            client,
            crypto,
            since: None,
            seen: vec![],
            pending: vec![],
            _dir: dir,
        }
    }

    async fn create_encrypted_room(&self) -> String {
        self.person
            .create_room(json!({
                "invite": [BOT],
                "initial_state": [{"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}],
            }))
            .await
    }

    /// Sends `content` of type `kind` encrypted; returns the event id.
    async fn send(&self, room: &str, kind: &str, content: Value) -> String {
        let n = self
            .person
            .txn
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let members = self.client.members(room).await.unwrap();
        let to = (members.as_slice(), Default::default());
        let encrypted = self
            .crypto
            .encrypt(&self.client, room, to, kind, &content)
            .await
            .unwrap();
        self.client
            .send(room, "m.room.encrypted", &format!("e{n}"), &encrypted)
            .await
            .unwrap()
    }

    async fn say(&self, room: &str, body: &str) -> String {
        self.send(
            room,
            "m.room.message",
            json!({"msgtype": "m.text", "body": body}),
        )
        .await
    }

    /// One sync: keys in, then every new timeline event, decrypted if it can be.
    async fn sync(&mut self) {
        let filter = r#"{"room":{"timeline":{"limit":100}}}"#;
        let batch = self
            .client
            .sync(self.since.as_deref(), Duration::from_millis(500), filter)
            .await
            .unwrap();
        self.crypto.receive(&batch).await.unwrap();
        self.crypto.flush(&self.client).await.unwrap();
        for (room, joined) in &batch.rooms.join {
            for e in &joined.timeline.events {
                self.pending.push((room.clone(), e.clone()));
            }
        }
        let pending = std::mem::take(&mut self.pending);
        for (room, e) in pending {
            if e.kind != "m.room.encrypted" {
                self.seen.push((room, e, false));
                continue;
            }
            match self.crypto.decrypt(&room, &e).await {
                Ok(clear) => self.seen.push((room, clear, true)),
                Err(_) => self.pending.push((room, e)),
            }
        }
        self.since = Some(batch.next_batch);
    }

    /// Syncs until an event satisfies `found`; returns it (and whether it came encrypted).
    async fn wait_for(&mut self, bot: &Bot, found: impl Fn(&str, &Event) -> bool) -> (Event, bool) {
        let start = Instant::now();
        loop {
            if let Some((_, e, encrypted)) = self.seen.iter().find(|(r, e, _)| found(r, e)) {
                return (e.clone(), *encrypted);
            }
            assert!(
                start.elapsed() < Duration::from_secs(40),
                "not seen; undecrypted: {}; bot log:\n{}",
                self.pending.len(),
                bot.log()
            );
            self.sync().await;
        }
    }

    /// The bot's answer to `question`, which must have come encrypted.
    async fn answer_to(&mut self, bot: &Bot, question: &str) -> Event {
        let (answer, encrypted) = self
            .wait_for(bot, |_, e| {
                e.sender == BOT
                    && e.content["m.relates_to"]["m.in_reply_to"]["event_id"] == question
            })
            .await;
        assert!(encrypted, "answered in clear text: {answer:?}");
        answer
    }

    /// Syncs for `how_long`, to see what else arrives.
    async fn keep_syncing(&mut self, how_long: Duration) {
        let start = Instant::now();
        while start.elapsed() < how_long {
            self.sync().await;
        }
    }

    fn count(&self, room: &str, what: impl Fn(&Event) -> bool) -> usize {
        self.seen
            .iter()
            .filter(|(r, e, _)| r == room && what(e))
            .count()
    }
}

fn body(e: &Event) -> &str {
    e.content["body"].as_str().unwrap_or("")
}

fn console(db: &TempDb, line: &str) -> String {
    support::stdout(&db.run(&["ask", line]))
        .trim_end()
        .to_string()
}

/// Nothing the bot said in `room` reached the server in clear text.
async fn nothing_in_clear(person: &Person, room: &str) {
    let clear: Vec<Value> = person
        .messages(room)
        .await
        .into_iter()
        .filter(|e| e["sender"] == BOT)
        .collect();
    assert!(clear.is_empty(), "sent in clear text: {clear:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn encrypted_rooms_are_answered_encrypted_across_restarts_and_reminded_once_after_a_kill() {
    let hs = Homeserver::start();
    let db = TempDb::new();
    let bot = Bot::start(&hs, &db, None);
    let mut alice = Encrypting::login(&hs, "alice", "alice-pw").await;
    let room = alice.create_encrypted_room().await;
    wait_until_member(&alice.person, &room, BOT, &bot, true).await;

    let asked = alice.say(&room, "!actor WIPO").await;
    let answer = alice.answer_to(&bot, &asked).await;
    assert_eq!(body(&answer), console(&db, "/actor WIPO"));
    assert_eq!(answer.content["msgtype"], "m.notice");

    // A restart between two messages: the bot's sessions are in its crypto store, so it
    // reads the next message and Alice reads its answer.
    bot.stop();
    let bot = Bot::start(&hs, &db, Some("after-send:60000"));
    let asked = alice.say(&room, "!standard 62443").await;
    let answer = alice.answer_to(&bot, &asked).await;
    assert_eq!(body(&answer), console(&db, "/standard 62443"));
    assert!(!bot.log().contains("cannot decrypt"), "{}", bot.log());

    // A reminder, sent encrypted; the bot is killed after sending, before recording it.
    let asked = alice.say(&room, "!settings offsets 2m").await;
    alice.answer_to(&bot, &asked).await;
    let asked = alice
        .say(&room, "!event add title:Standup when:\"in 2 minutes\"")
        .await;
    alice.answer_to(&bot, &asked).await;
    let is_reminder = |e: &Event| e.sender == BOT && body(e).starts_with("Reminder: Standup");
    let (reminder, encrypted) = alice
        .wait_for(&bot, |r, e| r == room && is_reminder(e))
        .await;
    assert!(encrypted, "{reminder:?}");
    assert_eq!(reminder.content["msgtype"], "m.text");
    bot.kill();
    let store = db.store().await;
    let states = store.reminder_states(EventId(1)).await.unwrap();
    store.close().await;
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].1, ReminderState::Claimed, "sent, not recorded");

    // Restarted: sent again under the same transaction id from the same device, which the
    // homeserver keeps once.
    let bot = Bot::start(&hs, &db, None);
    let start = Instant::now();
    loop {
        let store = db.store().await;
        let states = store.reminder_states(EventId(1)).await.unwrap();
        store.close().await;
        if states.iter().all(|(_, s)| *s == ReminderState::Sent) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "not recorded: {states:?}\n{}",
            bot.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    alice.keep_syncing(Duration::from_secs(2)).await;
    assert_eq!(alice.count(&room, is_reminder), 1, "exactly one reminder");
    nothing_in_clear(&alice.person, &room).await;
    bot.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thumbs_up_subscribes_taking_it_back_unsubscribes_and_unreadable_messages_are_explained_once(
) {
    let hs = Homeserver::start();
    let db = TempDb::new();
    let bot = Bot::start(&hs, &db, None);
    let mut alice = Encrypting::login(&hs, "alice", "alice-pw").await;
    let room = alice.create_encrypted_room().await;
    wait_until_member(&alice.person, &room, BOT, &bot, true).await;

    // Two messages the bot has no key for, in one session: one calm notice, not two.
    for n in 0..2 {
        alice
            .person
            .call(
                reqwest::Method::PUT,
                &format!("rooms/{room}/send/m.room.encrypted/bogus{n}"),
                Some(json!({"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgAEhAA", "sender_key": "eWZzb21la2V5", "session_id": "no-such-session", "device_id": alice.person.device})),
            )
            .await;
    }

    let asked = alice
        .say(&room, "!event add title:Seminar when:\"in 3 days\"")
        .await;
    alice.answer_to(&bot, &asked).await;
    let asked = alice.say(&room, "!event show 1").await;
    let card = alice.answer_to(&bot, &asked).await;
    assert!(
        body(&card).contains("React ✅ going, 🤔 maybe, ❌ can't go; 👍 to be reminded personally"),
        "{}",
        body(&card)
    );

    let reaction = alice
        .send(
            &room,
            "m.reaction",
            json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": card.event_id, "key": "👍"}}),
        )
        .await;
    let alice_id = alice.person.id.clone();
    let subscribed = || async {
        let store = db.store().await;
        let n = store
            .subscriptions_of_event(EventId(1))
            .await
            .unwrap()
            .iter()
            .filter(|(user, _)| *user == alice_id)
            .count();
        store.close().await;
        n
    };
    let start = Instant::now();
    while subscribed().await == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the 👍 did not subscribe\n{}",
            bot.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Told in a direct room, which is encrypted because Alice's client encrypts.
    let start = Instant::now();
    let mut invites = alice.person.invites().await;
    while invites.is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no direct room\n{}",
            bot.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        invites = alice.person.invites().await;
    }
    assert_eq!(invites.len(), 1, "one direct room");
    let dm = invites[0].clone();
    alice.person.join(&dm).await;
    let (told, encrypted) = alice
        .wait_for(&bot, |r, e| {
            r == dm && e.sender == BOT && body(e).contains("I will remind you")
        })
        .await;
    assert!(encrypted, "{told:?}");

    // The reaction taken back (redacted): no more personal reminders.
    alice
        .person
        .call(
            reqwest::Method::PUT,
            &format!("rooms/{room}/redact/{reaction}/r1"),
            Some(json!({})),
        )
        .await;
    let start = Instant::now();
    while subscribed().await != 0 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "taking the 👍 back did not unsubscribe\n{}",
            bot.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    alice
        .wait_for(&bot, |r, e| {
            r == dm && body(e).starts_with("No more reminders")
        })
        .await;

    // ✅ on the card: Alice is going, the card is edited in place with the count, and she is
    // told in her direct room.
    alice
        .send(
            &room,
            "m.reaction",
            json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": card.event_id, "key": "✅"}}),
        )
        .await;
    let (edit, encrypted) = alice
        .wait_for(&bot, |r, e| {
            r == room
                && e.content["m.relates_to"]["rel_type"] == "m.replace"
                && body(e).contains("1 going")
        })
        .await;
    assert!(encrypted, "{edit:?}");
    assert_eq!(
        edit.content["m.relates_to"]["event_id"],
        card.event_id.as_str()
    );
    alice
        .wait_for(&bot, |r, e| r == dm && body(e).starts_with("Going:"))
        .await;
    let store = db.store().await;
    let answers = store.rsvps_of(EventId(1)).await.unwrap();
    store.close().await;
    assert_eq!(answers, [(alice_id.clone(), "going".to_string())]);

    // The unreadable messages have waited for their key long enough by now.
    let unreadable = |e: &Event| e.sender == BOT && body(e).contains("could not decrypt");
    let start = Instant::now();
    while alice.count(&room, unreadable) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "no notice\n{}",
            bot.log()
        );
        alice.sync().await;
    }
    alice.keep_syncing(Duration::from_secs(3)).await;
    assert_eq!(
        alice.count(&room, unreadable),
        1,
        "once per sender and session"
    );
    nothing_in_clear(&alice.person, &room).await;
    bot.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_recovery_key_the_bot_cross_signs_its_device_even_after_losing_its_crypto_store() {
    let hs = Homeserver::start();
    let db = TempDb::new();
    let recovery = "correct horse battery staple for atlasbot";
    let env = [("MATRIX_RECOVERY_KEY", recovery)];
    let state = ["--db".to_string(), db.path.display().to_string()];
    let bot = Bot::start_env(&hs, db.dir.path(), &state, None, &env);
    bot.wait_log("this device is now cross-signed");
    bot.stop();
    let first = device_of(&db).await;

    let alice = Encrypting::login(&hs, "alice", "alice-pw").await;
    assert!(
        cross_signed(&alice, &first).await,
        "{first} is not cross-signed"
    );

    // The crypto store is lost: a new device, cross-signed again from the secret storage.
    let store = atlasbot::platform::matrix::crypto::default_store_path(&db.path);
    std::fs::remove_dir_all(&store).unwrap();
    let bot = Bot::start_env(&hs, db.dir.path(), &state, None, &env);
    bot.wait_log("this device is now cross-signed");
    let second = device_of(&db).await;
    assert_ne!(first, second, "a lost store means a new device");
    assert!(
        cross_signed(&alice, &second).await,
        "{second} is not cross-signed"
    );
    assert!(!bot.log().contains(recovery), "the recovery key was logged");

    // A wrong key is refused with a clear error, and the bot does not start.
    bot.stop();
    std::fs::remove_dir_all(&store).unwrap();
    let wrong = [("MATRIX_RECOVERY_KEY", "not the key")];
    let mut bot = Bot::start_env(&hs, db.dir.path(), &state, None, &wrong);
    let status = bot.child.wait().unwrap();
    assert!(!status.success());
    assert!(
        bot.log().contains("MATRIX_RECOVERY_KEY: end-to-end encryption failed: it does not open this account's secret storage"),
        "{}",
        bot.log()
    );
    assert!(!bot.log().contains("not the key"));

    // A token of a device whose keys another client holds: refused, not keyed over. (The
    // refused start above logged in and keyed a device of its own: its store goes too.)
    std::fs::remove_dir_all(&store).unwrap();
    let other = Encrypting::login(&hs, "atlasbot", "bot-pw").await;
    let token = [("MATRIX_ACCESS_TOKEN", other.person.token.as_str())];
    let mut bot = Bot::start_env(&hs, db.dir.path(), &state, None, &token);
    assert!(!bot.child.wait().unwrap().success());
    assert!(
        bot.log()
            .contains("which already has encryption keys that are not in MATRIX_CRYPTO_STORE"),
        "{}",
        bot.log()
    );
}

async fn device_of(db: &TempDb) -> String {
    let store = db.store().await;
    let device = store.matrix_account(BOT).await.unwrap().device_id.unwrap();
    store.close().await;
    device
}

/// Whether Alice's client sees the bot's `device` as signed by the bot's own identity.
async fn cross_signed(alice: &Encrypting, device: &str) -> bool {
    let olm = alice.crypto.olm();
    let bot: ruma::OwnedUserId = BOT.try_into().unwrap();
    olm.update_tracked_users([bot.as_ref()]).await.unwrap();
    olm.mark_all_tracked_users_as_dirty().await.unwrap();
    alice.crypto.flush(&alice.client).await.unwrap();
    let device: ruma::OwnedDeviceId = device.into();
    olm.get_device(&bot, &device, None)
        .await
        .unwrap()
        .is_some_and(|d| d.is_cross_signed_by_owner())
}

/// Alice on matrix-nio (tests/it/nio_alice.py), talking over pipes.
struct Nio {
    child: std::process::Child,
    lines: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
    _store: tempfile::TempDir,
}

impl Nio {
    fn start(hs: &Homeserver) -> (Nio, String) {
        let store = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new(super::venv().join("bin/python"))
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/it/nio_alice.py"
            ))
            .args([&hs.base, "@alice:localhost", "alice-pw"])
            .arg(store.path())
            .arg(BOT)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python with matrix-nio (scripts/synapse install)");
        let stdout = child.stdout.take().unwrap();
        let mut nio = Nio {
            child,
            lines: std::io::BufRead::lines(std::io::BufReader::new(stdout)),
            _store: store,
        };
        let ready = nio.next();
        let room = ready["room"]
            .as_str()
            .unwrap_or_else(|| panic!("nio: {ready}"))
            .to_string();
        (nio, room)
    }

    fn next(&mut self) -> Value {
        let line = self.lines.next().expect("nio answers").unwrap();
        serde_json::from_str(&line).unwrap()
    }

    /// Sends `line` encrypted; the bot's answer as nio decrypted it.
    fn ask(&mut self, line: &str, bot: &Bot) -> Value {
        use std::io::Write;
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let answer = self.next();
        assert!(
            answer.get("error").is_none(),
            "{answer}\nbot log:\n{}",
            bot.log()
        );
        assert_eq!(answer["decrypted"], true, "{answer}");
        answer
    }
}

impl Drop for Nio {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_established_encrypting_client_is_answered_encrypted_across_a_restart() {
    let hs = Homeserver::start();
    let db = TempDb::new();
    let bot = Bot::start(&hs, &db, None);
    let (mut nio, room) = tokio::task::block_in_place(|| Nio::start(&hs));
    let answer = tokio::task::block_in_place(|| nio.ask("!actor WIPO", &bot));
    assert_eq!(answer["body"], console(&db, "/actor WIPO"));
    assert_eq!(answer["msgtype"], "m.notice");

    bot.stop();
    let bot = Bot::start(&hs, &db, None);
    let answer = tokio::task::block_in_place(|| nio.ask("!define WSIS", &bot));
    assert_eq!(answer["body"], console(&db, "/define WSIS"));

    let alice = Person::login(&hs, "alice", "alice-pw").await;
    nothing_in_clear(&alice, &room).await;
    bot.stop();
}

/// The Megolm session of each encrypted message the bot sent in `room`, oldest first, as the
/// homeserver holds them (ciphertext only).
async fn bot_sessions(person: &Person, room: &str) -> Vec<String> {
    let v = person
        .call(
            reqwest::Method::GET,
            &format!("rooms/{room}/messages?dir=f&limit=500"),
            None,
        )
        .await;
    v["chunk"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["sender"] == BOT && e["type"] == "m.room.encrypted")
        .map(|e| e["content"]["session_id"].as_str().unwrap().to_string())
        .collect()
}

/// #29: the bot encrypts as the room says — a room that rotates its session every two
/// messages gets a new session on the third — and for whoever is in the room now: Bob, who
/// joins after the bot last looked at the members, reads its next answer (the member cache
/// follows the sync's joins; no member list is fetched per message).
#[tokio::test(flavor = "multi_thread")]
async fn the_bot_encrypts_with_the_rooms_rotation_settings_for_whoever_has_joined() {
    let hs = Homeserver::start();
    let db = TempDb::new();
    let bot = Bot::start(&hs, &db, None);
    let mut alice = Encrypting::login(&hs, "alice", "alice-pw").await;
    let room = alice
        .person
        .create_room(json!({
            "invite": [BOT],
            "initial_state": [{"type": "m.room.encryption", "state_key": "", "content": {
                "algorithm": "m.megolm.v1.aes-sha2", "rotation_period_msgs": 2}}],
        }))
        .await;
    wait_until_member(&alice.person, &room, BOT, &bot, true).await;
    for question in ["!define OEWG", "!topics", "!standard 62443"] {
        let asked = alice.say(&room, question).await;
        alice.answer_to(&bot, &asked).await;
    }
    // Its greeting on joining, then the three answers: sessions change every two messages.
    let sessions = bot_sessions(&alice.person, &room).await;
    assert!(sessions.len() >= 3, "{sessions:?}");
    for (i, pair) in sessions.chunks(2).enumerate() {
        assert!(
            pair.iter().all(|s| *s == pair[0]),
            "two messages per session: {sessions:?}"
        );
        if i > 0 {
            assert_ne!(
                pair[0],
                sessions[2 * i - 1],
                "a new session every two: {sessions:?}"
            );
        }
    }

    let mut bob = Encrypting::login(&hs, "bob", "bob-pw").await;
    alice.person.invite(&room, &bob.person.id).await;
    bob.person.join(&room).await;
    // The bot hears of the join through its sync before it answers the next question.
    alice.keep_syncing(Duration::from_secs(2)).await;
    let asked = alice.say(&room, "!actor WIPO").await;
    alice.answer_to(&bot, &asked).await;
    let answer = bob.answer_to(&bot, &asked).await;
    assert_eq!(body(&answer), console(&db, "/actor WIPO"));
    assert!(!bot.log().contains("cannot"), "{}", bot.log());
    nothing_in_clear(&alice.person, &room).await;
    bot.stop();
}
