"""Triggers that keep the dashboard's tallies in step with every change, in the writer's transaction (see
reports/tallies.py), then a first count of what is already there. PostgreSQL only: elsewhere the dashboard
counts from scratch."""

from django.db import migrations

# Each trigger appends the change a row makes to the simple figures (old row taken back, new row added, nothing
# when they net to zero) and marks the clusters whose duplicate or reclaimable share may have moved: a cluster
# through its members and status; a version's cluster when a column the shares read changes, and the clusters
# of the versions superseded by it when it enters or leaves quarantine; an item's old and new authoritative
# version's clusters.
TRIGGERS_SQL = """
CREATE FUNCTION reports_version_figures(v collections_app_version)
RETURNS TABLE (figure text, label text, n bigint, bytes bigint) LANGUAGE sql STABLE AS $$
    SELECT 'versions', v.source_id::text, 1::bigint, v.byte_size
    UNION ALL SELECT 'status', v.status, 1, 0
    UNION ALL SELECT 'purged', '', 1, v.byte_size WHERE v.purged_at IS NOT NULL
    UNION ALL SELECT 'quarantined', '', 1, v.byte_size WHERE v.quarantined_at IS NOT NULL AND v.purged_at IS NULL
    UNION ALL SELECT 'held', '', 1, 0 WHERE v.legal_hold
$$;

CREATE FUNCTION reports_version_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reports_tallychange (figure, label, n, bytes)
    SELECT f.figure, f.label, sum(f.n), sum(f.bytes) FROM (
        SELECT o.figure, o.label, -o.n AS n, -o.bytes AS bytes FROM reports_version_figures(OLD) o
            WHERE TG_OP <> 'INSERT'
        UNION ALL
        SELECT w.figure, w.label, w.n, w.bytes FROM reports_version_figures(NEW) w WHERE TG_OP <> 'DELETE'
    ) f GROUP BY f.figure, f.label HAVING sum(f.n) <> 0 OR sum(f.bytes) <> 0;
    IF TG_OP <> 'UPDATE' OR (OLD.byte_size, OLD.source_id, OLD.duplicate_of_id, OLD.item_id, OLD.status,
            OLD.legal_hold, OLD.quarantined_at, OLD.parent_id) IS NOT DISTINCT FROM (NEW.byte_size,
            NEW.source_id, NEW.duplicate_of_id, NEW.item_id, NEW.status, NEW.legal_hold, NEW.quarantined_at,
            NEW.parent_id) THEN
        RETURN NULL;  -- a new version has no cluster yet; a deleted one has left its cluster first
    END IF;
    INSERT INTO reports_stalecluster (cluster_id)
        SELECT m.cluster_id FROM dedup_clustermember m WHERE m.version_id = NEW.id;
    IF OLD.quarantined_at IS DISTINCT FROM NEW.quarantined_at THEN
        INSERT INTO reports_stalecluster (cluster_id)
            SELECT m.cluster_id FROM dedup_clustermember m
            JOIN collections_app_version d ON d.id = m.version_id WHERE d.duplicate_of_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION reports_item_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reports_tallychange (figure, label, n, bytes)
    SELECT f.figure, '', sum(f.n), 0 FROM (
        SELECT 'items' AS figure, -1 AS n WHERE TG_OP <> 'INSERT'
        UNION ALL SELECT 'items', 1 WHERE TG_OP <> 'DELETE'
        UNION ALL SELECT 'merged_away', -1 WHERE TG_OP <> 'INSERT' AND OLD.merged_into_id IS NOT NULL
        UNION ALL SELECT 'merged_away', 1 WHERE TG_OP <> 'DELETE' AND NEW.merged_into_id IS NOT NULL
    ) f GROUP BY f.figure HAVING sum(f.n) <> 0;
    IF TG_OP = 'UPDATE' AND (OLD.authoritative_version_id, OLD.merged_into_id)
            IS NOT DISTINCT FROM (NEW.authoritative_version_id, NEW.merged_into_id) THEN
        RETURN NULL;
    END IF;
    INSERT INTO reports_stalecluster (cluster_id)
        SELECT m.cluster_id FROM dedup_clustermember m
        WHERE m.version_id IN (OLD.authoritative_version_id, NEW.authoritative_version_id);
    RETURN NULL;
END $$;

CREATE FUNCTION reports_cluster_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = NEW.status THEN
        RETURN NULL;
    END IF;
    INSERT INTO reports_tallychange (figure, label, n, bytes)
        SELECT 'clusters', OLD.status, -1, 0 WHERE TG_OP <> 'INSERT'
        UNION ALL SELECT 'clusters', NEW.status, 1, 0 WHERE TG_OP <> 'DELETE';
    IF TG_OP <> 'INSERT' THEN  -- a new cluster has no members yet
        INSERT INTO reports_stalecluster (cluster_id) VALUES (OLD.id);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION reports_member_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.cluster_id, OLD.version_id, OLD.kind)
            IS NOT DISTINCT FROM (NEW.cluster_id, NEW.version_id, NEW.kind) THEN
        RETURN NULL;  -- a new score or evidence moves no figure
    END IF;
    INSERT INTO reports_stalecluster (cluster_id)
        SELECT DISTINCT c FROM (VALUES (OLD.cluster_id), (NEW.cluster_id)) AS t (c) WHERE c IS NOT NULL;
    RETURN NULL;
END $$;

CREATE TRIGGER reports_version_tally AFTER INSERT OR UPDATE OR DELETE ON collections_app_version
    FOR EACH ROW EXECUTE FUNCTION reports_version_changed();
CREATE TRIGGER reports_item_tally AFTER INSERT OR UPDATE OR DELETE ON collections_app_item
    FOR EACH ROW EXECUTE FUNCTION reports_item_changed();
CREATE TRIGGER reports_cluster_tally AFTER INSERT OR UPDATE OR DELETE ON dedup_cluster
    FOR EACH ROW EXECUTE FUNCTION reports_cluster_changed();
CREATE TRIGGER reports_member_tally AFTER INSERT OR UPDATE OR DELETE ON dedup_clustermember
    FOR EACH ROW EXECUTE FUNCTION reports_member_changed();
"""

DROP_SQL = """
DROP TRIGGER reports_member_tally ON dedup_clustermember;
DROP TRIGGER reports_cluster_tally ON dedup_cluster;
DROP TRIGGER reports_item_tally ON collections_app_item;
DROP TRIGGER reports_version_tally ON collections_app_version;
DROP FUNCTION reports_member_changed();
DROP FUNCTION reports_cluster_changed();
DROP FUNCTION reports_item_changed();
DROP FUNCTION reports_version_changed();
DROP FUNCTION reports_version_figures(collections_app_version);
"""


def triggers_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGERS_SQL)


def triggers_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


def tallies_first_count(apps, schema_editor):
    """What is already stored is counted once; from here on the triggers keep the count."""
    from reports.tallies import tallies_kept, tallies_recount

    if tallies_kept():
        tallies_recount()


class Migration(migrations.Migration):
    dependencies = [
        ("collections_app", "0014_statement_batch_channel"),
        ("dedup", "0012_fingerprint_detail"),
        ("reports", "0003_dashboard_tallies"),
    ]

    operations = [
        migrations.RunPython(triggers_create, triggers_drop),
        migrations.RunPython(tallies_first_count, migrations.RunPython.noop),
    ]
