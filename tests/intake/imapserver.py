"""A small, real IMAP4rev1 server for tests, on 127.0.0.1 and an ephemeral port.

It speaks the protocol over TCP (imaplib talks to it like to any server): CAPABILITY,
LOGIN, SELECT, STATUS, UID SEARCH, UID FETCH, UID STORE, UID COPY, EXPUNGE, NOOP,
LOGOUT. Messages live in memory per folder with UIDs, flags and a UIDVALIDITY.
"""

from __future__ import annotations

import re
import socketserver
import threading
from dataclasses import dataclass, field


@dataclass
class StoredMessage:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)
    # When the message reached the mailbox, as IMAP's INTERNALDATE ("05-Jan-2026 10:00:00 +0100").
    internal_date: str = "05-Jan-2026 10:00:00 +0100"


@dataclass
class Folder:
    uid_validity: int = 1
    next_uid: int = 1
    messages: list[StoredMessage] = field(default_factory=list)

    def append(self, raw: bytes, flags: set[str] | None = None) -> int:
        message = StoredMessage(uid=self.next_uid, raw=raw, flags=set(flags or ()))
        self.next_uid += 1
        self.messages.append(message)
        return message.uid


class MailStore:
    def __init__(self, user: str, password: str):
        self.user, self.password = user, password
        self.folders: dict[str, Folder] = {"INBOX": Folder()}
        self.lock = threading.Lock()
        self.fetch_count = 0

    def folder(self, name: str) -> Folder:
        return self.folders.setdefault(name, Folder())


def _uid_set(spec: str, highest: int) -> set[int] | tuple[int, int]:
    if ":" in spec:
        low, high = spec.split(":", 1)
        return (int(low), highest if high == "*" else int(high))
    return {int(part) for part in spec.split(",")}


def _matches(uid: int, selection: set[int] | tuple[int, int]) -> bool:
    if isinstance(selection, tuple):
        low, high = min(selection), max(selection)
        return low <= uid <= high
    return uid in selection


class Handler(socketserver.StreamRequestHandler):
    store: MailStore

    def send(self, line: str | bytes) -> None:
        data = line.encode() if isinstance(line, str) else line
        self.wfile.write(data + b"\r\n")

    def handle(self) -> None:
        self.selected: str | None = None
        self.authenticated = False
        self.send("* OK [CAPABILITY IMAP4rev1] leitplanke test IMAP ready")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            tag, _, rest = text.partition(" ")
            command, _, args = rest.partition(" ")
            try:
                if not self.dispatch(tag, command.upper(), args):
                    return
            except Exception as error:
                self.send(f"{tag} BAD {type(error).__name__}: {error}")

    def dispatch(self, tag: str, command: str, args: str) -> bool:
        store = self.store
        if command == "CAPABILITY":
            self.send("* CAPABILITY IMAP4rev1 UIDPLUS")
            self.send(f"{tag} OK CAPABILITY completed")
        elif command == "NOOP":
            self.send(f"{tag} OK NOOP completed")
        elif command == "LOGOUT":
            self.send("* BYE logging out")
            self.send(f"{tag} OK LOGOUT completed")
            return False
        elif command == "LOGIN":
            user, password = [part.strip('"') for part in args.split(" ", 1)]
            if (user, password) == (store.user, store.password):
                self.authenticated = True
                self.send(f"{tag} OK LOGIN completed")
            else:
                self.send(f"{tag} NO [AUTHENTICATIONFAILED] invalid credentials")
        elif not self.authenticated:
            self.send(f"{tag} NO not authenticated")
        elif command in ("SELECT", "EXAMINE"):
            name = args.strip().strip('"')
            with store.lock:
                folder = store.folder(name)
                self.selected = name
                self.send(r"* FLAGS (\Seen \Deleted \Flagged)")
                self.send(f"* {len(folder.messages)} EXISTS")
                self.send(f"* OK [UIDVALIDITY {folder.uid_validity}] UIDs valid")
                self.send(f"* OK [UIDNEXT {folder.next_uid}] next")
            self.send(f"{tag} OK [READ-WRITE] SELECT completed")
        elif command == "STATUS":
            name = args.split(" (")[0].strip('"')
            folder = store.folder(name)
            self.send(f'* STATUS "{name}" (UIDVALIDITY {folder.uid_validity} MESSAGES {len(folder.messages)})')
            self.send(f"{tag} OK STATUS completed")
        elif command == "EXPUNGE":
            with store.lock:
                folder = store.folder(self.selected or "INBOX")
                for index in reversed(range(len(folder.messages))):
                    if "\\Deleted" in folder.messages[index].flags:
                        del folder.messages[index]
                        self.send(f"* {index + 1} EXPUNGE")
            self.send(f"{tag} OK EXPUNGE completed")
        elif command == "UID":
            self.uid_command(tag, args)
        else:
            self.send(f"{tag} BAD unknown command {command}")
        return True

    def uid_command(self, tag: str, args: str) -> None:
        sub, _, rest = args.partition(" ")
        sub = sub.upper()
        with self.store.lock:
            folder = self.store.folder(self.selected or "INBOX")
            highest = max((m.uid for m in folder.messages), default=0)
            if sub == "SEARCH":
                spec = re.sub(r"^(CHARSET \S+ )?UID ", "", rest.strip(), flags=re.I)
                selection = _uid_set(spec, highest)
                uids = [m.uid for m in folder.messages if _matches(m.uid, selection)]
                if isinstance(selection, tuple) and not uids and highest:
                    uids = [highest]  # RFC 3501: "n:*" includes the highest UID
                self.send("* SEARCH" + "".join(f" {uid}" for uid in uids))
                self.send(f"{tag} OK SEARCH completed")
            elif sub == "FETCH":
                spec, _, _items = rest.partition(" ")
                selection = _uid_set(spec, highest)
                for index, message in enumerate(folder.messages, start=1):
                    if _matches(message.uid, selection):
                        self.store.fetch_count += 1
                        internal = f'INTERNALDATE "{message.internal_date}" ' if "INTERNALDATE" in _items.upper() else ""
                        self.send(f"* {index} FETCH (UID {message.uid} {internal}BODY[] {{{len(message.raw)}}}".encode())
                        self.wfile.write(message.raw)
                        self.send(")")
                self.send(f"{tag} OK FETCH completed")
            elif sub == "STORE":
                spec, _, change = rest.partition(" ")
                mode, _, flags = change.partition(" ")
                names = set(flags.strip("()").split())
                selection = _uid_set(spec, highest)
                for message in folder.messages:
                    if _matches(message.uid, selection):
                        if mode.upper().startswith("+"):
                            message.flags |= names
                        elif mode.upper().startswith("-"):
                            message.flags -= names
                        else:
                            message.flags = names
                self.send(f"{tag} OK STORE completed")
            elif sub == "COPY":
                spec, _, target = rest.partition(" ")
                selection = _uid_set(spec, highest)
                destination = self.store.folder(target.strip().strip('"'))
                for message in list(folder.messages):
                    if _matches(message.uid, selection):
                        destination.append(message.raw, set(message.flags))
                self.send(f"{tag} OK COPY completed")
            else:
                self.send(f"{tag} BAD unknown UID command")


class ImapTestServer:
    """Context manager: `with ImapTestServer() as server:`; `server.port`, `server.store`."""

    def __init__(self, user: str = "complaints@example.org", password: str = "s3cret-imap"):
        self.store = MailStore(user, password)
        handler = type("BoundHandler", (Handler,), {"store": self.store})
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ImapTestServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
