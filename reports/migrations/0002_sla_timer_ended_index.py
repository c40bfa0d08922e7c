"""An index on the instant SLA timers ended, for the dashboards' live SLA figures of today.

It lives on the SLA app's table but only the reports read by it: additive, and dropped on reversal.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial"), ("sla", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS reports_sla_timer_ended_idx ON sla_timer "
            "((COALESCE(breached_at, stopped_at))) WHERE state IN ('met', 'breached')",
            "DROP INDEX IF EXISTS reports_sla_timer_ended_idx",
        )
    ]
