"""The watch-health state machine (monitor/record/health.py), step by step, with no database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.model import ChangeKind, TargetState
from monitor.record.health import (
    Health,
    HealthPolicy,
    after_failure,
    after_gone,
    after_success,
    health_of,
)

POLICY = HealthPolicy(failing_after=3, gone_after=2)
NOW = datetime(2026, 11, 30, 6, 17, tzinfo=UTC)


def kinds(step) -> list[ChangeKind]:
    return [entry.kind for entry in step.entries]


def test_a_new_target_that_answers_is_ok_and_says_nothing():
    step = after_success(Health())
    assert step.health == Health(TargetState.OK)
    assert kinds(step) == [] and not step.was_removed


def test_failures_below_the_threshold_say_nothing_and_are_forgotten_on_success():
    health = Health(TargetState.OK)
    for count in (1, 2):
        step = after_failure(health, "HTTP 503", POLICY)
        health = step.health
        assert health == Health(TargetState.OK, count, 0, "HTTP 503") and kinds(step) == []
    assert after_success(health).health == Health(TargetState.OK)


def test_the_third_failure_in_a_row_is_one_failing_entry_and_recovery_one_recovered_entry():
    health = Health(TargetState.OK)
    steps = []
    for _ in range(5):
        step = after_failure(health, "HTTP 503", POLICY)
        steps.append(step)
        health = step.health
    assert [kinds(s) for s in steps] == [[], [], [ChangeKind.FAILING], [], []]
    failing = steps[2].entries[0]
    assert failing.headline == "failing: HTTP 503"
    assert failing.summary == "The page has failed 3 checks in a row. Last error: HTTP 503"
    assert failing.details == {"error": "HTTP 503", "consecutive_failures": 3}
    assert health == Health(TargetState.FAILING, 5, 0, "HTTP 503")
    back = after_success(health)
    assert kinds(back) == [ChangeKind.RECOVERED]
    assert back.entries[0].summary == "The page answers normally again after 5 failed checks in a row."
    assert back.health == Health(TargetState.OK)


def test_a_target_that_never_answered_stays_new_until_it_does():
    step = after_failure(Health(), "timed out", POLICY)
    assert step.health.state == TargetState.NEW and step.health.consecutive_failures == 1


def test_gone_once_is_quiet_twice_is_removed_once_and_an_answer_restores_it():
    first = after_gone(Health(TargetState.OK), "the page answers 404", POLICY)
    assert first.health == Health(TargetState.GONE, 0, 1, "the page answers 404") and kinds(first) == []
    second = after_gone(first.health, "the page answers 404", POLICY)
    assert second.health.state == TargetState.REMOVED and kinds(second) == [ChangeKind.REMOVED]
    assert second.entries[0].headline == "removed from GOV.UK (the page answers 404)"
    assert second.entries[0].summary == "The page has been gone on 2 checks in a row: the page answers 404."
    third = after_gone(second.health, "the page answers 404", POLICY)
    assert third.health.state == TargetState.REMOVED and kinds(third) == []
    back = after_success(third.health)
    assert back.was_removed and back.health == Health(TargetState.OK) and kinds(back) == []


def test_gone_once_then_answering_again_is_nothing():
    gone = after_gone(Health(TargetState.OK), "410", POLICY).health
    back = after_success(gone)
    assert back.health == Health(TargetState.OK) and kinds(back) == [] and not back.was_removed


def test_a_failing_page_that_goes_404_once_still_owes_its_recovered_entry():
    failing = Health(TargetState.FAILING, 3, 0, "HTTP 503")
    gone = after_gone(failing, "404", POLICY).health
    assert gone.state == TargetState.FAILING and gone.consecutive_failures == 3
    assert kinds(after_success(gone)) == [ChangeKind.RECOVERED]


def test_a_failure_does_not_reset_the_gone_count():
    gone = after_gone(Health(TargetState.OK), "404", POLICY).health
    failed = after_failure(gone, "timed out", POLICY).health
    assert failed.consecutive_gone == 1 and failed.state == TargetState.GONE
    assert after_gone(failed, "404", POLICY).health.state == TargetState.REMOVED


def test_stored_columns():
    step = after_failure(Health(TargetState.OK), "boom", POLICY)
    assert step.columns(NOW, success=False) == {"state": "ok", "consecutive_failures": 1, "consecutive_gone": 0, "last_error": "boom", "last_checked_at": NOW}
    assert after_success(Health()).columns(NOW, success=True)["last_success_at"] == NOW


@pytest.mark.parametrize(("stored", "state"), [("ok", TargetState.OK), ("failing", TargetState.FAILING), ("new", TargetState.NEW), ("bogus", TargetState.OK)])
def test_health_from_stored_columns(stored, state):
    assert health_of(stored, 1, 2, "x") == Health(state, 1, 2, "x")
