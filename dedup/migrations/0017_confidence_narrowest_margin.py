from django.db import migrations

from dedup.review.confidence import cluster_confidence


def confidence_recompute(apps, schema_editor):
    """Existing clusters take the confidence of their narrowest margin, the detail reading's included (new ones
    get it when matching saves them)."""
    Cluster = apps.get_model("dedup", "Cluster")
    ClusterMember = apps.get_model("dedup", "ClusterMember")
    for cluster_id in Cluster.objects.values_list("pk", flat=True).iterator(chunk_size=2000):
        members = ClusterMember.objects.filter(cluster_id=cluster_id).values_list("kind", "evidence")
        if members:
            Cluster.objects.filter(pk=cluster_id).update(confidence=cluster_confidence(members))


class Migration(migrations.Migration):
    dependencies = [("dedup", "0016_probe_hash_keys")]

    operations = [migrations.RunPython(confidence_recompute, migrations.RunPython.noop)]
