"""The line and word diff: correct on random edits, readable on rewritten sentences."""

from __future__ import annotations

import random

import pytest

from monitor.compare.text import diff_sequences, diff_words


def apply(a, b, ops):
    out, pos_a, pos_b = [], 0, 0
    for tag, a1, a2, b1, b2 in ops:
        assert (a1, b1) == (pos_a, pos_b), "opcodes must be contiguous"
        if tag == "equal":
            assert a[a1:a2] == b[b1:b2]
            out += a[a1:a2]
        else:
            assert tag in ("replace", "delete", "insert")
            out += b[b1:b2]
        pos_a, pos_b = a2, b2
    assert (pos_a, pos_b) == (len(a), len(b))
    return out


@pytest.mark.parametrize("seed", range(200))
def test_opcodes_turn_a_into_b(seed):
    rng = random.Random(seed)
    a = [rng.choice("abcdefgh") for _ in range(rng.randint(0, 60))]
    b = list(a)
    for _ in range(rng.randint(0, 8)):
        roll = rng.random()
        if roll < 0.3 and b:
            del b[rng.randrange(len(b))]
        elif roll < 0.6:
            b.insert(rng.randint(0, len(b)), rng.choice("abcxyz"))
        elif b:
            b[rng.randrange(len(b))] = rng.choice("xyz")
    assert apply(a, b, diff_sequences(a, b)) == b


def test_unique_lines_anchor_a_moved_block():
    a = [f"line {i}" for i in range(1000)]
    b = a[:500] + ["new line"] + a[500:]
    assert diff_sequences(a, b) == [("equal", 0, 500, 0, 500), ("insert", 500, 500, 500, 501), ("equal", 500, 1000, 501, 1001)]


@pytest.mark.parametrize("seed", range(100))
def test_word_runs_rebuild_both_texts(seed):
    rng = random.Random(seed)
    words = ["the", "pupil", "data", "is", "shared", "with", "Home", "Office", "police", "researchers", "and", ",", "."]
    old = " ".join(rng.choice(words) for _ in range(rng.randint(0, 40)))
    new = " ".join(rng.choice(words) for _ in range(rng.randint(0, 40)))
    runs = diff_words(old, new)
    assert "".join(t for op, t in runs if op != "insert") == old
    assert "".join(t for op, t in runs if op != "delete") == new


def test_a_rewritten_clause_reads_as_one_deletion_and_one_insertion():
    runs = diff_words(
        "We hold pupil data securely until the pupil reaches the age of 25, after which it is securely destroyed.",
        "We hold pupil data securely for 6 years after the pupil leaves our school, after which it is securely destroyed.",
    )
    assert runs == [
        ("equal", "We hold pupil data securely "),
        ("delete", "until the pupil reaches the age of 25"),
        ("insert", "for 6 years after the pupil leaves our school"),
        ("equal", ", after which it is securely destroyed."),
    ]


def test_small_insertions_stay_small():
    assert diff_words("We share data with the police.", "We share pupil data with the police.") == [
        ("equal", "We share "),
        ("insert", "pupil "),
        ("equal", "data with the police."),
    ]
