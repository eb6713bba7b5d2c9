"""The demo's mail server: a few lines of SMTP on 127.0.0.1 that keep each message as an .eml
file, so `dfe-monitor demo` shows alerts arriving (and surviving an outage) with no real mail
server. Only for the demo: it accepts anything from anyone on this machine."""

from __future__ import annotations

import socketserver
import threading
from pathlib import Path


class _Session(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        self._say("220 dfe-monitor demo mailbox")
        while line := self.rfile.readline(65536):
            command = line.decode("ascii", "replace").strip().upper()
            if command.startswith(("EHLO", "HELO")):
                self._say("250 demo mailbox")
            elif command.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                self._say("250 OK")
            elif command == "DATA":
                self._say("354 end with <CRLF>.<CRLF>")
                if not self._message():
                    return
                self._say("250 kept")
            elif command == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("502 not implemented")

    def _message(self) -> bool:
        lines: list[bytes] = []
        while line := self.rfile.readline(1_000_000):
            if line == b".\r\n":
                self.server.keep(b"".join(lines))
                return True
            lines.append(line[1:] if line.startswith(b"..") else line)
        return False  # the connection closed before the end: nothing was delivered

    def _say(self, text: str) -> None:
        self.wfile.write(f"{text}\r\n".encode("ascii"))


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, port: int, folder: Path) -> None:
        super().__init__(("127.0.0.1", port), _Session)
        self.folder = folder
        self.lock = threading.Lock()

    def keep(self, data: bytes) -> None:
        with self.lock:
            number = len(list(self.folder.glob("*.eml"))) + 1
            (self.folder / f"{number:03}.eml").write_bytes(data)


class Mailbox:
    """``start()`` / ``stop()`` on one port (stopped: connections refused, like an outage)."""

    def __init__(self, folder: Path, port: int = 0) -> None:
        self.folder = folder
        self.port = port
        self._server: _Server | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._server = _Server(self.port, self.folder)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def messages(self) -> list[Path]:
        return sorted(self.folder.glob("*.eml"))
