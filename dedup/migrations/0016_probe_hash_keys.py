"""The hash index keyed by three expression indexes on the hash (21, 21 and 22 bits, covering) in place of four
16-bit block columns: at a million versions a 16-bit block is shared by hundreds of entries, a 21-bit key by ten."""

import django.db.models.expressions
from django.db import migrations, models


BLOCKS = ("b0", "b1", "b2", "b3")
BLOCKS_FILL = (
    "UPDATE dedup_hashentry SET b0 = (value >> 48) & 65535, b1 = (value >> 32) & 65535,"
    " b2 = (value >> 16) & 65535, b3 = value & 65535"
)


class Migration(migrations.Migration):

    dependencies = [
        ('collections_app', '0014_statement_batch_channel'),
        ('dedup', '0015_evidence_reason_codes'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='hashentry',
            index=models.Index(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(models.F('value'), '>>', models.Value(43)), '&', models.Value(2097151)), include=('value', 'version'), name='hashentry_key0'),
        ),
        migrations.AddIndex(
            model_name='hashentry',
            index=models.Index(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(models.F('value'), '>>', models.Value(22)), '&', models.Value(2097151)), include=('value', 'version'), name='hashentry_key1'),
        ),
        migrations.AddIndex(
            model_name='hashentry',
            index=models.Index(django.db.models.expressions.CombinedExpression(models.F('value'), '&', models.Value(4194303)), include=('value', 'version'), name='hashentry_key2'),
        ),
        migrations.AddIndex(
            model_name='hashentry',
            index=models.Index(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(models.F('value'), '>>', models.Value(43)), '&', models.Value(2097151)), condition=models.Q(('upright', True)), include=('value', 'version'), name='hashentry_upright_key0'),
        ),
        migrations.AddIndex(
            model_name='hashentry',
            index=models.Index(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(models.F('value'), '>>', models.Value(22)), '&', models.Value(2097151)), condition=models.Q(('upright', True)), include=('value', 'version'), name='hashentry_upright_key1'),
        ),
        migrations.AddIndex(
            model_name='hashentry',
            index=models.Index(django.db.models.expressions.CombinedExpression(models.F('value'), '&', models.Value(4194303)), condition=models.Q(('upright', True)), include=('value', 'version'), name='hashentry_upright_key2'),
        ),
        migrations.RemoveIndex(model_name="hashentry", name="hashentry_upright_b0"),
        migrations.RemoveIndex(model_name="hashentry", name="hashentry_upright_b1"),
        migrations.RemoveIndex(model_name="hashentry", name="hashentry_upright_b2"),
        migrations.RemoveIndex(model_name="hashentry", name="hashentry_upright_b3"),
        # Undone in reverse: the block columns come back empty, are filled from the hash, then required again.
        *(
            migrations.AlterField(model_name="hashentry", name=block, field=models.IntegerField(db_index=True, null=True))
            for block in BLOCKS
        ),
        migrations.RunSQL(migrations.RunSQL.noop, reverse_sql=BLOCKS_FILL),
        *(migrations.RemoveField(model_name="hashentry", name=block) for block in BLOCKS),
        # The planner's row estimates for the keys come from statistics on the expressions, which only ANALYZE
        # gathers; without them it prices each lookup at thousands of rows (and may compile the probe with JIT).
        migrations.RunSQL("ANALYZE dedup_hashentry", reverse_sql=migrations.RunSQL.noop),
    ]
