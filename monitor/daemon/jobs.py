"""What the daemon runs: the main check of every target, one job per distinct target schedule,
and the ``dfe-monitor run`` command line of each."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger

from monitor.config import Config

MAIN_JOB_ID = "all"


@dataclass(frozen=True)
class CheckJob:
    """One scheduled job: every target (``targets`` empty) or a few targets on their own cron."""

    job_id: str
    label: str
    crontab: str
    targets: tuple[str, ...] = ()


def plan_jobs(config: Config) -> list[CheckJob]:
    """The main job plus one job per distinct target schedule (other than the main cron)."""
    main_cron = " ".join(config.schedule.cron.split())
    jobs = [CheckJob(MAIN_JOB_ID, "all targets", main_cron)]
    by_cron: dict[str, list[str]] = {}
    for target in config.targets:
        if target.schedule and " ".join(target.schedule.split()) != main_cron:
            by_cron.setdefault(" ".join(target.schedule.split()), []).append(target.name)
    for crontab, names in by_cron.items():
        label = names[0] if len(names) == 1 else f"{len(names)} targets ({', '.join(names)})"
        jobs.append(CheckJob(f"cron:{crontab}", label, crontab, tuple(names)))
    return jobs


def child_command(config_path: Path, job: CheckJob, verbose: int = 0, log_format: str = "text") -> list[str]:
    """The ``dfe-monitor run`` command line for one check (``--target=NAME`` per target); with
    ``--json`` the child ends with one JSON result line, which the daemon reads (its error too:
    the child then prints no error line of its own, so each check is logged once)."""
    command = [sys.executable, "-m", "monitor", "run", "--json", "--config", str(config_path)]
    command += [f"--target={name}" for name in job.targets]
    if verbose:
        command.append("-" + "v" * verbose)
    if log_format != "text":
        command.append(f"--log-format={log_format}")
    return command


def cron_trigger(crontab: str, timezone: str) -> CronTrigger:
    return CronTrigger.from_crontab(crontab, timezone=timezone)
