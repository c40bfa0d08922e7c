"""The out-of-the-box rules (automation.builtin): a fresh install routes work from the start."""

from django.db import migrations


def create(apps, schema_editor):
    from automation.builtin import ensure_builtin_rules

    ensure_builtin_rules(apps.get_model("automation", "Rule"))


class Migration(migrations.Migration):
    dependencies = [("automation", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
