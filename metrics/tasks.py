"""Background work of the metrics domain: the usage-alert email (the work is ``metrics.alerts``)."""

from celery import shared_task


# No automatic retries and early acknowledgement (unlike the project default of acks_late): a
# duplicate alert email is worse than a lost one, and the Usage page and banner show it anyway.
@shared_task(name="metrics.send_usage_alert_email", acks_late=False, max_retries=0)
def send_usage_alert_email(user_id: str, alert_id: str) -> bool:
    from .alerts import usage_alert_notify  # noqa: PLC0415 - tasks import the work in the task body

    return usage_alert_notify(user_id=user_id, alert_id=alert_id)
