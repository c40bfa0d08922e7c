"""Software.installed_cis: the kept count of distinct CIs with a current installation of each title
(issue 23's compliance report), filled from the installations already imported."""

from django.db import migrations, models

FILL = """
    UPDATE contracts_software AS s SET installed_cis = c.n
    FROM (
        SELECT software_id, count(DISTINCT ci_id) AS n
        FROM contracts_installation WHERE ended_at IS NULL GROUP BY software_id
    ) AS c
    WHERE c.software_id = s.id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="software",
            name="installed_cis",
            field=models.PositiveIntegerField(default=0, db_default=0, editable=False),
        ),
        migrations.RunSQL(FILL, reverse_sql=migrations.RunSQL.noop),
    ]
