"""Scheduled work of the health app (Celery beat: ``health.send_reminders`` every minute)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="health.send_reminders", ignore_result=True)
def send_reminders() -> dict:
    from .reminders import reminders_run

    return reminders_run()
