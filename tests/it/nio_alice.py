"""Alice on matrix-nio (libolm), an established encrypting Matrix client that shares no code
with the bot: used by tests/it/matrix_e2ee.rs.

    nio_alice.py HOMESERVER USER PASSWORD STORE_DIR BOT

Creates an end-to-end encrypted room, invites BOT and waits until it has joined, then prints
{"room": ROOM_ID}. Then, for each line read from stdin, sends it encrypted into the room and
prints the bot's answer to it, as nio decrypted it:
{"command": ..., "body": ..., "msgtype": ..., "decrypted": true}, or {"error": ...} if none
came within 40 seconds. One JSON object per line.
"""

import asyncio
import json
import sys
import time

from nio import AsyncClient, AsyncClientConfig, LoginResponse, MegolmEvent, RoomCreateResponse

ENCRYPTION = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


def say(obj):
    print(json.dumps(obj), flush=True)


async def step(client, seen):
    """One sync, then what the client owes the server (keys, to-device messages)."""
    response = await client.sync(timeout=500)
    if client.should_upload_keys:
        await client.keys_upload()
    if client.should_query_keys:
        await client.keys_query()
    if client.should_claim_keys:
        await client.keys_claim(client.get_users_for_key_claiming())
    await client.send_to_device_messages()
    rooms = getattr(response, "rooms", None)
    if rooms is not None:
        for joined in rooms.join.values():
            seen.extend(joined.timeline.events)
    # Messages whose keys came late: try again.
    for i, event in enumerate(seen):
        if isinstance(event, MegolmEvent):
            try:
                seen[i] = client.decrypt_event(event)
            except Exception:
                pass


async def main():
    homeserver, user, password, store, bot = sys.argv[1:6]
    config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True)
    client = AsyncClient(homeserver, user, store_path=store, config=config)
    login = await client.login(password)
    if not isinstance(login, LoginResponse):
        say({"error": f"login: {login}"})
        return 1
    seen = []
    await step(client, seen)
    created = await client.room_create(invite=[bot], initial_state=[ENCRYPTION])
    if not isinstance(created, RoomCreateResponse):
        say({"error": f"createRoom: {created}"})
        return 1
    room = created.room_id
    deadline = time.monotonic() + 40
    while bot not in (client.rooms.get(room).users if room in client.rooms else {}):
        if time.monotonic() > deadline:
            say({"error": "the bot never joined"})
            return 1
        await step(client, seen)
    say({"room": room})

    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    while line := (await reader.readline()).decode().strip():
        sent = await client.room_send(
            room,
            "m.room.message",
            {"msgtype": "m.text", "body": line},
            ignore_unverified_devices=True,
        )
        question = getattr(sent, "event_id", None)
        if question is None:
            say({"error": f"send: {sent}"})
            continue
        deadline = time.monotonic() + 40
        answer = None
        while answer is None and time.monotonic() < deadline:
            await step(client, seen)
            for event in seen:
                content = event.source.get("content", {})
                relation = content.get("m.relates_to", {}).get("m.in_reply_to", {})
                if event.sender == bot and relation.get("event_id") == question:
                    answer = event
        if answer is None:
            undecrypted = sum(isinstance(e, MegolmEvent) for e in seen)
            say({"error": f"no answer to {line!r} ({undecrypted} undecrypted)"})
            continue
        content = answer.source.get("content", {})
        say({
            "command": line,
            "body": content.get("body"),
            "msgtype": content.get("msgtype"),
            "decrypted": bool(getattr(answer, "decrypted", False)),
        })
    await client.close()
    return 0


sys.exit(asyncio.run(main()))
