"""Scenario helpers for the fault-injection tests (tests/test_faults_*.py, tests/test_crash.py).

A :class:`Scenario` is a small GOV.UK-shaped site (tests/support/sitebuilder.py) served by the fixture
server, a config.toml pointing at it, and `dfe-monitor` run as a child process — one process per
run, because Twisted's reactor cannot be restarted. Everything a test asserts is read back the
way a person would: exit codes, stderr lines, `dfe-monitor changes --json`, and the database's
`runs`, `fetches`, `versions` and `changes` tables through plain sqlite3.

The standard site has three targets:

* ``REGISTER`` — a Content API publication with one CSV attachment;
* ``PRIVACY`` — a Content API publication with change history;
* ``HTML_ONLY`` — a page with no Content API item (the API answers 404, the page is read).
"""

from __future__ import annotations

import json
import random
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.demo.server import FixtureServer, RequestRecord
from support import forkserver
from support.sitebuilder import Site, State, attachment

REGISTER = "/government/publications/pupil-data-register"
PRIVACY = "/government/publications/privacy-information-pupils"
HTML_ONLY = "/guidance/pupil-data-html-only"
CSV_PATH = "/media/a1b2c3/pupil-data-register.csv"

TARGETS = (
    ("Pupil data register", REGISTER, "release-register"),
    ("Privacy information: pupils", PRIVACY, "privacy-notice"),
    ("Pupil data guidance (HTML only)", HTML_ONLY, "census-guidance"),
)

CSV_BEFORE = b"Reference,Requester,Purpose\nDS00001,University A,Research\nDS00002,Home Office,Immigration\n"
CSV_AFTER = CSV_BEFORE + b"DS00003,Police,Crime\n"

FAST_FETCH = {"timeout_seconds": 5, "delay_seconds": 0, "retries": 1, "backoff_seconds": 0.1}


# -- site content ------------------------------------------------------------------------------


def html_page(title: str, body: str, *, noise: bool = True, extra_head: str = "", banner: str = "", related: tuple[str, ...] = ("A", "B", "C")) -> str:
    """A rendered GOV.UK page: content in ``main#content`` wrapped in every kind of chrome noise."""
    chrome_head = (
        '<meta name="csrf-token" content="{{nonce}}">'
        '<meta name="govuk:updated-at" content="{{now}}">'
        '<script nonce="{{nonce}}">window.GOVUK = {requestId: "{{request_id}}"}</script>'
        '<link rel="stylesheet" href="/assets/application-{{nonce}}.css">'
        if noise
        else ""
    )
    chrome_top = (
        '<div class="gem-c-cookie-banner" data-nonce="{{nonce}}"><p>Cookies on GOV.UK</p></div>'
        f"{banner}"
        '<div class="govuk-breadcrumbs"><ol><li><a href="/">Home</a></li></ol></div>'
        if noise
        else ""
    )
    sidebar = "".join(f'<li><a href="/related/{name}">Related {name}</a></li>' for name in related)
    chrome_bottom = (
        f'<div class="gem-c-contextual-sidebar"><ul>{sidebar}</ul></div>'
        '<div class="gem-c-feedback" id="feedback"><h2>Is this page useful?</h2>'
        '<input type="hidden" name="url" value="{{base}}/guidance/x?token={{request_id}}"></div>'
        '<footer class="govuk-footer"><p>Rendered {{now}}</p></footer>'
        if noise
        else ""
    )
    return (
        f"<!DOCTYPE html><html lang=\"en\"><head><title>{title} - GOV.UK</title>{chrome_head}{extra_head}</head>"
        f"<body>{chrome_top}<main id=\"content\" class=\"govuk-main-wrapper\"><h1>{title}</h1>"
        f'<div class="gem-c-govspeak">{body}</div></main>{chrome_bottom}</body></html>'
    )


def build_standard_state(state: State, *, version: str = "before", privacy_body: str | None = None, html_body: str | None = None, csv: bytes | None = None) -> None:
    """The three standard targets; ``version`` "after" changes each one a little."""
    after = version == "after"
    csv = csv if csv is not None else (CSV_AFTER if after else CSV_BEFORE)
    state.file(CSV_PATH, csv)
    state.item(
        REGISTER,
        title="Pupil data register",
        body="<p>Who received pupil data from the National Pupil Database.</p>",
        change_history=[("2025-06-01T09:30:00.000+01:00", "First published.")],
        attachments=[attachment("a1b2c3", "pupil-data-register.csv", "Pupil data register", len(csv), "text/csv")],
    )
    default_privacy = "<p>We share pupil data with researchers.</p>" + ("<p>We also share nationality with the Home Office.</p>" if after else "")
    state.item(
        PRIVACY,
        title="Privacy information: pupils",
        body=privacy_body if privacy_body is not None else default_privacy,
        change_history=[("2025-06-01T09:30:00.000+01:00", "First published.")],
    )
    default_html = "<p>Schools send the census each term.</p>" + ("<p>Country of birth is now collected.</p>" if after else "")
    state.page(HTML_ONLY, html_page("Pupil data guidance", html_body if html_body is not None else default_html))
    state.robots()


def standard_site(root: Path) -> Site:
    site = Site(root)
    build_standard_state(site.state("before"))
    build_standard_state(site.state("after"), version="after")
    return site


# -- configuration -----------------------------------------------------------------------------


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value)


def config_for(base_url: str, targets: tuple[tuple[str, str, str], ...] | list[tuple[str, str, str]] = TARGETS, *, fetch: dict[str, Any] | None = None, sections: dict[str, dict[str, Any]] | None = None, allowed_hosts: list[str] | None = None) -> str:
    """config.toml for a local site; ``fetch`` overrides FAST_FETCH, ``sections`` adds tables."""
    tables: dict[str, dict[str, Any]] = {
        "storage": {"database": "monitor.db"},
        "feed": {"path": "feed.atom", "url": "https://example.org/dfe-monitor/feed.atom"},
        "govuk": {"base_url": base_url},
        "fetch": {"allowed_hosts": allowed_hosts or ["127.0.0.1"], **FAST_FETCH, **(fetch or {})},
    }
    for name, values in (sections or {}).items():
        tables.setdefault(name, {}).update(values)
    lines: list[str] = []
    for name, values in tables.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
    for name, path, category in targets:
        url = path if "://" in path else f"{base_url}{path}"
        lines += ["[[targets]]", f"name = {json.dumps(name)}", f"url = {json.dumps(url)}", f'category = "{category}"']
    return "\n".join(lines) + "\n"


# -- running -----------------------------------------------------------------------------------


def monitor(config: Path, *args: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`dfe-monitor ARGS --config CONFIG` as a child process (forked warm: ``forkserver``)."""
    return forkserver.run([*args, "--config", str(config)], timeout=timeout, env=env)


def start_monitor(config: Path, *args: str, env: dict[str, str] | None = None) -> forkserver.ForkedProcess | subprocess.Popen[str]:
    """`dfe-monitor ARGS --config CONFIG` started as a child process, with its output piped."""
    return forkserver.popen([*(args or ("run",)), "--config", str(config)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def stderr_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


@dataclass
class Scenario:
    """A site, its server, a config and the folder the database and feed live in."""

    site: Site
    server: FixtureServer
    folder: Path
    config: Path
    results: list[subprocess.CompletedProcess[str]] = field(default_factory=list)

    @property
    def base(self) -> str:
        return self.server.url

    @property
    def database(self) -> Path:
        return self.folder / "monitor.db"

    @property
    def feed(self) -> Path:
        return self.folder / "feed.atom"

    def write_config(self, targets: Any = TARGETS, **kwargs: Any) -> Path:
        self.config.write_text(config_for(self.base, targets, **kwargs), encoding="utf-8")
        return self.config

    def run(self, *args: str, expect: int | None = 0, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """`dfe-monitor run` (or ARGS); asserts the exit code unless ``expect`` is None."""
        result = monitor(self.config, *(args or ("run",)), timeout=timeout)
        self.results.append(result)
        if expect is not None:
            assert result.returncode == expect, f"exit {result.returncode}, expected {expect}\nstdout: {result.stdout}\nstderr: {result.stderr}"
        return result

    def changes(self) -> list[dict[str, Any]]:
        result = monitor(self.config, "changes", "--json")
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        return query_db(self.database, query, *params)

    def count(self, table: str, where: str = "1=1", *params: Any) -> int:
        return self.sql(f"SELECT count(*) FROM {table} WHERE {where}", *params)[0][0]

    def runs(self) -> list[tuple[int, str]]:
        return [(row[0], row[1]) for row in self.sql("SELECT id, status FROM runs ORDER BY id")]

    def last_run(self) -> tuple[int, str, dict[str, Any], str | None]:
        run_id, status, summary, error = self.sql("SELECT id, status, summary, error FROM runs ORDER BY id DESC LIMIT 1")[0]
        return run_id, status, json.loads(summary or "{}"), error

    def fetches(self, run_id: int | None = None) -> list[dict[str, Any]]:
        run_id = run_id if run_id is not None else self.last_run()[0]
        rows = self.sql("SELECT role, url, final_url, status, error, sha256, size, redirects FROM fetches WHERE run_id = ? ORDER BY id", run_id)
        keys = ("role", "url", "final_url", "status", "error", "sha256", "size", "redirects")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def fetch_of(self, url_or_path: str, run_id: int | None = None) -> dict[str, Any]:
        url = url_or_path if "://" in url_or_path else f"{self.base}{url_or_path}"
        found = [f for f in self.fetches(run_id) if f["url"] == url]
        assert found, f"no fetch of {url} in run {run_id}: {[f['url'] for f in self.fetches(run_id)]}"
        return found[-1]

    def versions(self) -> list[tuple[int, int, str]]:
        return [tuple(row) for row in self.sql("SELECT id, target_id, fingerprint FROM versions ORDER BY id")]  # type: ignore[misc]

    def snapshot(self) -> dict[str, Any]:
        """What must never change when a run fails: versions, changes, the feed's bytes."""
        return {
            "versions": self.sql("SELECT id, target_id, fingerprint, document_sha256 FROM versions ORDER BY id"),
            "changes": self.sql("SELECT id, target_id, kind, feed_id, title FROM changes ORDER BY id"),
            "feed": self.feed.read_bytes() if self.feed.exists() else None,
        }

    def integrity(self) -> str:
        return query_db(self.database, "PRAGMA integrity_check")[0][0]

    def hits(self, path: str) -> list[RequestRecord]:
        return [r for r in list(self.server.requests) if r.path.split("?")[0] == path]

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def fork(self, folder: Path) -> Scenario:
        """A copy of this scenario's database, feed and config in ``folder``, same server: many
        tests can start from one baseline run instead of each paying for their own."""
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("monitor.db", "monitor.db-wal", "feed.atom", "config.toml"):
            if (self.folder / name).exists():
                shutil.copy2(self.folder / name, folder / name)
        return Scenario(site=self.site, server=self.server, folder=folder, config=folder / "config.toml")

    def mark(self) -> int:
        """Where the server's request log is now: ``requests_since(mark)`` is what came after."""
        return len(self.server.requests)

    def requests_since(self, mark: int, path: str | None = None) -> list[RequestRecord]:
        records = list(self.server.requests)[mark:]
        return [r for r in records if path is None or r.path.split("?")[0] == path]


def query_db(database: Path, query: str, *params: Any) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(database, timeout=30)
    try:
        return con.execute(query, params).fetchall()
    finally:
        con.close()


@contextmanager
def scenario(tmp_path: Path, build: Callable[[Path], Site] = standard_site, state: str = "before", **config: Any) -> Iterator[Scenario]:
    site = build(tmp_path / "site")
    folder = tmp_path / "work"
    folder.mkdir()
    with FixtureServer(site.root, state) as server:
        s = Scenario(site=site, server=server, folder=folder, config=folder / "config.toml")
        s.write_config(**config)
        yield s


# -- the feed ----------------------------------------------------------------------------------

ATOM = {"a": "http://www.w3.org/2005/Atom"}
LIVE_ELEMENTS = "//script | //iframe | //frame | //img | //svg | //object | //embed | //form | //base | //meta | //link | //style"


def live_markup(html_text: str) -> list[str]:
    """Everything in an HTML fragment or page that a browser would run or load."""
    from lxml import etree

    tree = etree.fromstring(f"<div>{html_text}</div>" if not html_text.lstrip().lower().startswith("<!doctype") else html_text.encode(), etree.HTMLParser())
    if tree is None:
        return []
    found = [f"<{el.tag}>" for el in tree.xpath(LIVE_ELEMENTS) if el.tag not in ("meta", "style")]
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        found += [f"{element.tag}@{name}" for name in element.attrib if name.lower().startswith("on")]
        for name in ("href", "src", "action", "formaction", "xlink:href"):
            value = (element.get(name) or "").strip().lower()
            if value and not value.startswith(("http://", "https://", "#")) and not (element.tag == "a" and value.endswith(".html") and "/" not in value and ":" not in value):
                found.append(f"{element.tag}@{name}={value[:40]}")
    return found


def feed_problems(xml: bytes) -> list[str]:
    """Checks any Atom reader relies on: well-formed, unique ids, dates, no live markup."""
    import feedparser
    from lxml import etree

    problems = []
    parsed = feedparser.parse(xml)
    if parsed.bozo:
        problems.append(f"feedparser: {parsed.get('bozo_exception')}")
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    ids = [e.text for e in root.iterfind("a:entry/a:id", ATOM)]
    if len(ids) != len(set(ids)):
        problems.append("repeated entry ids")
    for content in root.iterfind("a:entry/a:content", ATOM):
        problems += live_markup(content.text or "")
    for title in root.iterfind("a:entry/a:title", ATOM):
        if "<" in (title.text or "") and title.get("type") in ("html", "xhtml"):
            problems.append("markup in an html title")
    return problems


def feed_ids(xml: bytes) -> list[str]:
    from lxml import etree

    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    return [e.text or "" for e in root.iterfind("a:entry/a:id", ATOM)]


# -- crash trials (tests/test_crash.py and bench/crash_loop.py) --------------------------------


@dataclass
class CrashTrial:
    number: int
    state: str  # the site's state during the trial
    kill_after: float  # seconds after the start of the run
    phase: str  # where the kill landed: starting | crawling | processing | finished
    killed_run_status: str | None  # after the recovery run
    recovery_exit: int
    recovery_seconds: float
    integrity: str
    problems: list[str]
    leftover_temp_files: int  # a kill between a feed's temp file and its rename leaves one


CRASH_TARGETS = tuple((f"Crash page {n}", f"/government/publications/crash-page-{n}", "privacy-notice") for n in range(6))


def crash_site(root: Path) -> Site:
    """Six publications whose text names the state, each with a 1,000-row CSV that does too."""
    site = Site(root)
    for state_name in ("before", "after"):
        state = site.state(state_name)
        for n, (name, path, _category) in enumerate(CRASH_TARGETS):
            csv = f"Reference,State\nDS{n:05d},{state_name}\n".encode() + b"".join(f"R{i:05d},{state_name} row {i}\n".encode() for i in range(1000))
            state.file(f"/media/crash{n}/data-{n}.csv", csv)
            paragraphs = "".join(f"<p>Paragraph {i} of {name}, state {state_name}.</p>" for i in range(40))
            state.item(path, title=name, body=f"<p>State marker: {state_name}.</p>{paragraphs}", change_history=[("2025-06-01T09:30:00.000+01:00", "First published.")], attachments=[attachment(f"crash{n}", f"data-{n}.csv", f"Data {n}", len(csv), "text/csv")])
        state.robots()
    return site


def check_history(database: Path, expected_state: str) -> list[str]:
    """The invariants a kill must never break, for the site in ``expected_state``."""
    problems: list[str] = []
    rows = query_db(database, "SELECT t.name, v.id, v.fingerprint, v.document_sha256 FROM versions v JOIN targets t ON t.id = v.target_id ORDER BY t.name, v.id")
    by_target: dict[str, list[tuple[int, str, str]]] = {}
    for name, vid, fingerprint, sha in rows:
        by_target.setdefault(name, []).append((vid, fingerprint, sha))
    for name, _path, _category in CRASH_TARGETS:
        history = by_target.get(name, [])
        if not history:
            problems.append(f"{name}: no version at all")
            continue
        for (_, a, _), (vid, b, _) in zip(history, history[1:], strict=False):
            if a == b:
                problems.append(f"{name}: version {vid} repeats the one before it")
        latest_sha = history[-1][2]
        document = blob(database, latest_sha).decode()
        if f"State marker: {expected_state}." not in document:
            problems.append(f"{name}: latest version is not the site's current state ({expected_state}): a version was lost")
        # every version after the first has exactly one change pointing at it, and back
        changes = query_db(database, "SELECT old_version_id, new_version_id FROM changes c JOIN targets t ON t.id = c.target_id WHERE t.name = ? AND c.kind IN ('changed', 'restored') ORDER BY c.id", name)
        expected = [(a[0], b[0]) for a, b in zip(history, history[1:], strict=False)]
        if changes != expected:
            problems.append(f"{name}: changes {changes} do not pair the versions {expected} one to one")
    feed_ids_in_db = [row[0] for row in query_db(database, "SELECT feed_id FROM changes")]
    if len(feed_ids_in_db) != len(set(feed_ids_in_db)):
        problems.append("two changes share a feed id")
    running = query_db(database, "SELECT id FROM runs WHERE status = 'running'")
    if running:
        problems.append(f"runs still marked running after a completed run: {running}")
    return problems


def blob(database: Path, sha: str) -> bytes:
    """A blob's bytes, read as docs/schema.md says a researcher would (no project code)."""
    import zlib

    from storage.blobs import zstd_module

    zstd = zstd_module()

    data, compression, base = query_db(database, "SELECT data, compression, base_sha256 FROM blobs WHERE sha256 = ?", sha)[0]
    if compression == "zstd-delta":
        return zstd.decompress(data, zstd_dict=zstd.ZstdDict(blob(database, base), is_raw=True))
    if compression == "zstd":
        return zstd.decompress(data)
    return zlib.decompress(data) if compression == "zlib" else data


def crash_trial(number: int, server: FixtureServer, config: Path, database: Path, feed: Path, rng: random.Random, max_kill_after: float) -> CrashTrial:
    """Flip the site's state, start a run, SIGKILL it at a random moment, run again, check."""
    state = "after" if number % 2 == 0 else "before"
    server.set_state(state)
    kill_after = rng.uniform(0.02 * max_kill_after, 0.9 * max_kill_after)  # a warm child crawls in its first tenth
    last_run = query_db(database, "SELECT coalesce(max(id), 0) FROM runs")[0][0]
    temp_before = set(feed.parent.glob(f".{feed.name}.*.tmp"))
    victim = start_monitor(config)
    try:
        victim.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        victim.send_signal(signal.SIGKILL)
    finally:
        if victim.poll() is None:
            victim.wait(timeout=30)
        victim.communicate()
    phase = kill_phase(database, last_run)
    started = time.monotonic()
    recovery = monitor(config, "run")
    seconds = time.monotonic() - started
    problems = []
    if recovery.returncode != 0:
        problems.append(f"recovery run exited {recovery.returncode}: {recovery.stderr.strip()}")
    integrity = query_db(database, "PRAGMA integrity_check")[0][0]
    if integrity != "ok":
        problems.append(f"integrity_check: {integrity}")
    killed = query_db(database, "SELECT status FROM runs WHERE id = ?", last_run + 1)
    status = killed[0][0] if killed and phase != "starting" else None
    if phase in ("crawling", "processing") and status != "aborted":
        problems.append(f"the killed run {last_run + 1} is recorded {status!r}, not aborted")
    problems += check_history(database, state)
    if feed.exists():
        xml = feed.read_bytes()
        problems += [f"feed: {p}" for p in feed_problems(xml)]
        changes_count = query_db(database, "SELECT count(*) FROM changes")[0][0]
        if len(feed_ids(xml)) != changes_count:
            problems.append(f"the feed has {len(feed_ids(xml))} entries for {changes_count} changes")
    # a kill between writing the feed's temp file and the rename leaves the temp file behind
    # (litter, never a torn feed: the rename is atomic)
    leftovers = len(set(feed.parent.glob(f".{feed.name}.*.tmp")) - temp_before)
    return CrashTrial(number, state, kill_after, phase, status, recovery.returncode, seconds, integrity, problems, leftovers)


def kill_phase(database: Path, last_run: int) -> str:
    """Where the killed run had got to, from what it left in the database."""
    run = query_db(database, "SELECT status FROM runs WHERE id = ?", last_run + 1)
    if not run:
        return "starting"  # before its first transaction (imports, lock, opening the database)
    if run[0][0] != "running":
        return "finished"
    fetched = query_db(database, "SELECT count(*) FROM fetches WHERE run_id = ?", last_run + 1)[0][0]
    if fetched >= 2 * len(CRASH_TARGETS):  # every page and file of the crash site: crawl done
        return "processing"
    return "crawling"


def crash_loop(folder: Path, trials: int, seed: int = 1, report: Callable[[CrashTrial], None] | None = None) -> list[CrashTrial]:
    """A crash site, a baseline run, then ``trials`` kill-and-recover trials."""
    site = crash_site(folder / "site")
    work = folder / "work"
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    with FixtureServer(site.root, "before") as server:
        config = work / "config.toml"
        config.write_text(config_for(server.url, CRASH_TARGETS), encoding="utf-8")
        baseline = monitor(config, "run")
        assert baseline.returncode == 0, baseline.stderr
        server.set_state("after")
        started = time.monotonic()
        full = monitor(config, "run")  # a whole run with six changes: how long a kill can wait
        assert full.returncode == 0, full.stderr
        max_kill_after = time.monotonic() - started
        results = []
        for number in range(1, trials + 1):
            trial = crash_trial(number, server, config, work / "monitor.db", work / "feed.atom", rng, max_kill_after)
            results.append(trial)
            if report is not None:
                report(trial)
    return results


# -- hostile files -----------------------------------------------------------------------------

FILES = Path(__file__).parent.parent / "fixtures" / "files"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"


def zip_bomb_like(source: bytes, member: str, size: int = 20 * 1024 * 1024) -> bytes:
    """A real office file whose ``member`` is replaced by ``size`` bytes of XML padding: a
    compression ratio no genuine document has (a zip bomb, at a size tests can afford)."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as original, zipfile.ZipFile(out, "w") as target:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == member:
                data = data[: data.index(b">", data.index(b"<", 40)) + 1] + b" " * size + data[-200:]
            fixed = zipfile.ZipInfo(info.filename, (2025, 1, 6, 9, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, data, compresslevel=9)
    return out.getvalue()


def hostile_files() -> dict[str, tuple[bytes, bytes, str]]:
    """filename -> (a genuine file for "before", the hostile file for "after", content type)."""
    ods = (FILES / "register-before.ods").read_bytes()
    xlsx = (FILES / "register-before.xlsx").read_bytes()
    docx = (FILES / "privacy-notice-before.docx").read_bytes()
    pdf = (FILES / "census-guide-before.pdf").read_bytes()
    return {
        "zip-bomb.ods": (ods, (FILES / "hostile-zip-bomb.ods").read_bytes(), ODS),
        "zip-bomb.xlsx": (xlsx, zip_bomb_like(xlsx, "xl/worksheets/sheet1.xml"), XLSX),
        "zip-bomb.docx": (docx, zip_bomb_like(docx, "word/document.xml"), DOCX),
        "billion-laughs.xlsx": (xlsx, (FILES / "hostile-billion-laughs.xlsx").read_bytes(), XLSX),
        "external-entity.xlsx": (xlsx, (FILES / "hostile-external-entity.xlsx").read_bytes(), XLSX),
        "garbage.docx": (docx, (FILES / "hostile-garbage.docx").read_bytes(), DOCX),
        "slow-content.pdf": (pdf, (FILES / "hostile-slow-content.pdf").read_bytes(), PDF),
        "cyclic-pages.pdf": (pdf, (FILES / "hostile-cyclic-pages.pdf").read_bytes(), PDF),
        "deep-nesting.pdf": (pdf, (FILES / "hostile-deep-nesting.pdf").read_bytes(), PDF),
    }


# -- private mount namespaces (a full disk, a read-only folder) -------------------------------


def namespaces_available() -> bool:
    """True when this process may mount file systems in a private mount namespace (root with
    CAP_SYS_ADMIN, as in our CI containers); the tests that need it are skipped otherwise."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--mount", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt 2>/dev/null || mount -t tmpfs -o size=64k tmpfs /tmp"], capture_output=True, timeout=30)
    return probe.returncode == 0


def run_in_namespace(setup: str, config: Path, rc_file: Path, after: str = "", timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`dfe-monitor run` in a private mount namespace, after the shell commands ``setup``
    (mounts made there vanish when it ends; nothing outside changes). ``after`` runs next, still
    inside (to copy results out). The run's exit code is written to ``rc_file``."""
    script = "\n".join([
        "set -e",
        setup,
        "set +e",
        f"{shlex.quote(sys.executable)} -m monitor run --config {shlex.quote(str(config))}",
        f"echo $? > {shlex.quote(str(rc_file))}",
        after,
    ])
    return subprocess.run(["unshare", "--mount", "sh", "-c", script], capture_output=True, text=True, timeout=timeout)
