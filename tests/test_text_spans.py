"""A version's texts stored as spans over versions (``version_text_spans``), read back through
the ``version_texts`` view: pieces that stay extend their span, a piece inserted above others
leaves them open, reading order holds, the rows of each version are exactly its pieces
whatever order versions are indexed in; migration 0009 converts 0008's rows losslessly and
search finds the same hits before and after, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from storage import index, queries, repo
from storage.db import Database
from storage.spans import OpenSpan, plan_spans

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TITLE = ("title", "", "Pupil data")
PARAS = [("paragraph", "About", f"Paragraph {n} about the National Pupil Database.") for n in range(1, 6)]


# --- the plan, without a database -------------------------------------------------------------


def follow(open_spans: list[OpenSpan], texts: list[tuple[str, str, str]], next_id: int) -> tuple[list[OpenSpan], int, int]:
    """Apply a plan: the spans open at the new version, in order; the next free id; how many went on."""
    plan = plan_spans(open_spans, texts)
    kept = {s.id: s for s in open_spans if s.id in set(plan.going_on)}
    new = []
    for position, part, section, body in plan.new:
        new.append(OpenSpan(next_id, position, (part, section, body)))
        next_id += 1
    spans = sorted([*kept.values(), *new], key=lambda s: s.position)
    assert [s.piece for s in spans] == texts
    assert len({s.position for s in spans}) == len(spans)
    return spans, next_id, len(plan.going_on)


def test_a_first_version_gets_positions_0_to_n():
    plan = plan_spans([], [TITLE, *PARAS])
    assert plan.going_on == [] and [p[0] for p in plan.new] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_an_insertion_at_the_top_moves_no_other_span():
    spans, next_id, _ = follow([], [TITLE, *PARAS], 1)
    before = {s.piece: (s.id, s.position) for s in spans}
    inserted = ("paragraph", "", "Update: a new paragraph at the top.")
    spans, _, going_on = follow(spans, [TITLE, inserted, *PARAS], next_id)
    assert going_on == 6
    assert all(before[s.piece] == (s.id, s.position) for s in spans if s.piece != inserted)
    assert 0.0 < next(s.position for s in spans if s.piece == inserted) < 1.0


def test_a_deletion_closes_one_span_and_an_insertion_at_the_end_follows_the_last():
    spans, next_id, _ = follow([], [TITLE, *PARAS], 1)
    spans, next_id, going_on = follow(spans, [TITLE, *PARAS[:2], *PARAS[3:]], next_id)
    assert going_on == 5
    spans, _, going_on = follow(spans, [TITLE, *PARAS[:2], *PARAS[3:], ("note", "", "New")], next_id)
    assert going_on == 5 and spans[-1].position == 6.0


def test_repeated_pieces_are_matched_one_for_one():
    a, b, c = ("table_row", "T", "a"), ("table_row", "T", "—"), ("table_row", "T", "c")
    spans, next_id, _ = follow([], [a, b, b, b, c], 1)
    spans, next_id, going_on = follow(spans, [a, b, b, c], next_id)
    assert going_on == 4
    spans, next_id, going_on = follow(spans, [a, b, b, b, b, b, c], next_id)
    assert going_on == 4 and next_id == 9
    many = [b] * 300  # more than 1% the same: difflib's automatic junk would drop them
    spans, next_id, _ = follow([], [a, *many, c], 1)
    _, _, going_on = follow(spans, [c, a, *many], next_id)
    assert going_on == 301


def test_thousands_of_identical_pieces_between_changing_ones_are_aligned_quickly():
    """Without automatic junk this took five minutes (every match visited every repeat)."""
    import time

    dash = ("table_row", "T", "—")
    old = [x for n in range(2000) for x in (dash, ("table_row", "T", f"old {n}"))]
    new = [x for n in range(2000) for x in (("table_row", "T", f"new {n}"), dash)]
    started = time.perf_counter()
    spans, next_id, _ = follow([], old, 1)
    follow(spans, new, next_id)  # checks the order and the pieces
    assert time.perf_counter() - started < 2


def test_when_floats_run_out_every_piece_is_renumbered_and_order_still_holds():
    spans, next_id, _ = follow([], [TITLE, *PARAS], 1)
    texts = [TITLE, *PARAS]
    renumbered = 0
    for n in range(120):  # each new paragraph goes right under the first one: halving the gap each time
        texts = [*texts[:2], ("paragraph", "", f"Update {n}"), *texts[2:]]
        spans, next_id, going_on = follow(spans, texts, next_id)
        renumbered += going_on == 0
    assert 1 <= renumbered <= 3


# --- through the database, on both engines ----------------------------------------------------


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    database.setup()
    yield database
    database.dispose()


def add_versions(db: Database, targets: list[str]) -> list[int]:
    """One new version for each target named (a, b, …) in this order; their ids."""
    ids = []
    with db.write() as session:
        repo.sync_configured_targets(session, [repo.TargetSpec(f"https://www.gov.uk/{t}", t, "other") for t in "abc"], NOW)
        by_name = {t.name: t.id for t in repo.all_targets(session)}
        run_id = repo.start_run(session, NOW, 1)
        for name in targets:
            serial = len(queries.all_versions(session))
            version = repo.add_version(session, target_id=by_name[name], run_id=run_id, now=NOW, document_json=f'{{"n": {serial}}}'.encode(), fingerprint=f"{serial:064d}", page_fetch_id=None, extractor_version=1)
            ids.append(version.id)
    return ids


def write(db: Database, version_id: int, texts: list[tuple[str, str, str]]) -> None:
    with db.write() as session:
        target_id = queries.get_version(session, version_id).target_id
        index.index_version(session, version_id=version_id, target_id=target_id, texts=texts, files=[], now=NOW)


def view(db: Database) -> dict[int, list[tuple[str, str, str]]]:
    with db.read() as session:
        rows = session.execute(text("SELECT version_id, part, section, text FROM version_texts ORDER BY version_id, position"))
        found: dict[int, list[tuple[str, str, str]]] = {}
        for version_id, *piece in rows:
            found.setdefault(version_id, []).append(tuple(piece))
    return found


def spans(db: Database) -> list[tuple]:
    with db.read() as session:
        return [tuple(r) for r in session.execute(text("SELECT text, first_version_id, last_version_id FROM version_text_spans ORDER BY id"))]


def test_spans_follow_a_history_and_the_view_gives_each_version_its_pieces(db):
    top = ("paragraph", "About", "Update: new at the top.")
    history = [
        ("a", [TITLE, *PARAS]),
        ("b", [("title", "", "Another page"), PARAS[0]]),
        ("a", [TITLE, *PARAS]),  # unchanged
        ("a", [TITLE, top, *PARAS]),  # inserted at the top
        ("b", [("title", "", "Another page")]),
        ("a", [TITLE, top, *PARAS[:2], *PARAS[3:]]),  # paragraph 3 deleted
        ("a", [TITLE, top, PARAS[0], PARAS[0], *PARAS[1:2], *PARAS[3:]]),  # paragraph 1 repeated
    ]
    ids = add_versions(db, [name for name, _ in history])
    for version_id, (_, texts) in zip(ids, history, strict=True):
        write(db, version_id, texts)
    assert view(db) == {version_id: texts for version_id, (_, texts) in zip(ids, history, strict=True)}
    a = [v for v, (name, _) in zip(ids, history, strict=True) if name == "a"]
    found = spans(db)
    by_text = {}
    for body, first, last in found:
        if first in a:
            by_text.setdefault(body, []).append((first, last))
    assert by_text["Pupil data"] == [(a[0], a[-1])]
    assert by_text[PARAS[4][2]] == [(a[0], a[-1])]  # below the insertion: still the first span
    assert by_text[PARAS[2][2]] == [(a[0], a[2])]  # deleted in a[3]
    assert by_text[top[2]] == [(a[2], a[-1])]
    assert sorted(by_text[PARAS[0][2]]) == [(a[0], a[-1]), (a[-1], a[-1])]
    assert len(found) == 6 + 1 + 1 + 2  # a's six, the top one, the repeat; b's title and paragraph (its title goes on)


def test_versions_indexed_out_of_order_or_with_a_gap_still_read_back_exactly(db):
    texts = {n: [TITLE, *PARAS[: n + 2]] for n in range(4)}
    ids = add_versions(db, ["a", "a", "a", "a"])
    for n in (3, 0, 2):  # the second version is not indexed yet: nothing may span it
        write(db, ids[n], texts[n])
    assert view(db) == {ids[n]: texts[n] for n in (0, 2, 3)}
    write(db, ids[1], texts[1])
    assert view(db) == {ids[n]: texts[n] for n in range(4)}
    assert all(first <= last for _, first, last in spans(db))
    with db.read() as session:  # the same rows as indexing in order would give, only less shared
        assert session.scalar(text("SELECT count(*) FROM version_texts")) == sum(len(t) for t in texts.values())


def test_reindex_order_by_id_rebuilds_the_same_spans(db):
    texts = [[TITLE, *PARAS], [TITLE, ("paragraph", "", "New"), *PARAS], [TITLE, *PARAS[1:]]]
    ids = add_versions(db, ["a", "a", "a"])
    for version_id, pieces in zip(ids, texts, strict=True):
        write(db, version_id, pieces)
    first = spans(db)
    with db.write() as session:
        index.clear_index(session)
    for version_id, pieces in zip(ids, texts, strict=True):
        write(db, version_id, pieces)
    assert spans(db) == first and view(db) == dict(zip(ids, texts, strict=True))


# --- migration 0009 from 0008's per-version rows ----------------------------------------------

# The page half of 0.2.x's search query, over the per-version rows of revision 0007.
OLD_SQLITE_SEARCH = """SELECT x.version_id, x.target_id, x.part, x.section, x.position,
       snippet(version_texts_fts, 0, '[', ']', '…', 16) AS snippet
FROM version_texts_fts JOIN version_texts x ON x.id = version_texts_fts.rowid
WHERE version_texts_fts MATCH :q ORDER BY x.version_id, x.position"""
OLD_POSTGRES_SEARCH = """SELECT x.version_id, x.target_id, x.part, x.section, x.position,
       ts_headline('simple', x.text, to_tsquery('simple', :q), 'StartSel=[, StopSel=], MaxWords=16, MinWords=6, MaxFragments=1, FragmentDelimiter=…') AS snippet
FROM version_texts x WHERE x.tsv @@ to_tsquery('simple', :q) ORDER BY x.version_id, x.position"""
QUERIES = {"national pupil": [(("national", "pupil"), False)], "paragraph": [(("paragraph",), False)], "updat*": [(("updat",), True)], "title": [(("pupil",), False), (("data",), False)]}


def old_history() -> list[tuple[str, list[tuple[str, str, str]] | None]]:
    """Versions of three targets, interleaved; None: a version never indexed (0.1.0)."""
    top = ("paragraph", "About", "Update: new at the top.")
    return [
        ("a", [TITLE, *PARAS]),
        ("b", [("title", "", "Other data"), PARAS[0], PARAS[0]]),
        ("a", [TITLE, *PARAS]),
        ("a", [TITLE, top, *PARAS]),
        ("c", None),
        ("b", [("title", "", "Other data"), PARAS[0]]),
        ("c", [("title", "", "Third"), PARAS[1]]),
        ("a", None),
        ("a", [TITLE, top, *PARAS]),
        ("b", [("title", "", "Other data"), PARAS[0], PARAS[0]]),
        ("a", [TITLE, top, *PARAS[:2], *PARAS[3:]]),
        ("c", [("title", "", "Third"), PARAS[1]]),
    ]


def test_migration_0009_keeps_every_row_and_every_search_hit(database_url):
    from alembic import command

    from storage.migrate import alembic_config

    db = Database(database_url)
    postgres = db.dialect == "postgresql"
    try:
        with db.engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0008")
        history = old_history()
        ids = add_versions(db, [name for name, _ in history])
        with db.write() as session:
            for version_id, (name, texts) in zip(ids, history, strict=True):
                for position, (part, section, body) in enumerate(texts or []):
                    target_id = queries.get_version(session, version_id).target_id
                    session.execute(
                        text("INSERT INTO version_texts (version_id, target_id, position, part, section, text) VALUES (:v, :t, :p, :part, :s, :x)"),
                        {"v": version_id, "t": target_id, "p": position, "part": part, "s": section, "x": body},
                    )
            if not postgres:  # 0007 on fill the index in the writer, not by trigger
                session.execute(text("INSERT INTO version_texts_fts(version_texts_fts) VALUES ('rebuild')"))
        columns = "id, version_id, target_id, position, part, section, text"
        with db.read() as session:
            old_rows = [tuple(r) for r in session.execute(text(f"SELECT {columns} FROM version_texts ORDER BY version_id, position"))]
            old_hits = {}
            for words, phrases in QUERIES.items():
                q = queries._tsquery(phrases) if postgres else queries._fts5_query(phrases)
                old_hits[words] = [tuple(r) for r in session.execute(text(OLD_POSTGRES_SEARCH if postgres else OLD_SQLITE_SEARCH), {"q": q})]
        assert len(old_rows) == sum(len(t or []) for _, t in history) and all(old_hits.values())

        db.setup()  # 0008 → head
        with db.read() as session:
            rows = [tuple(r) for r in session.execute(text(f"SELECT {columns} FROM version_texts ORDER BY version_id, position"))]
            spans = session.scalar(text("SELECT count(*) FROM version_text_spans"))
            for words, phrases in QUERIES.items():
                hits = [(h.version_id, h.target_id, h.part, h.section, h.snippet) for h in queries.search_texts(session, phrases) if h.source == "page"]
                assert hits == [(*h[:4], h[5]) for h in old_hits[words]], words  # in the same order; positions are the spans'
        assert [(r[1:3], r[4:]) for r in rows] == [(r[1:3], r[4:]) for r in old_rows]  # ids and positions are now the spans'
        # as a run would have written them: a: 6, the top row, 7 after the gap; b: 3, the repeat again; c: 2
        assert spans == (6 + 1 + 7) + (3 + 1) + 2
        if not postgres:
            with db.engine.connect() as connection:
                connection.exec_driver_sql("INSERT INTO version_texts_fts(version_texts_fts, rank) VALUES ('integrity-check', 1)")

        # and back: 0008's table again, the same rows
        with db.engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0008")
        with db.read() as session:
            back = [tuple(r) for r in session.execute(text(f"SELECT {columns} FROM version_texts ORDER BY version_id, position"))]
        assert [r[1:] for r in back] == [r[1:] for r in old_rows]  # positions 0, 1, 2… again
    finally:
        db.dispose()
