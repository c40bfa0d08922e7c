# The SQL functions that give numbered records their number on INSERT (core.numbering).

from django.db import migrations

import core.numbering


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_approval"),
    ]

    operations = [
        core.numbering.CreateNumberFunctions(),
    ]
