"""Signal receivers of the review: the cluster's confidence is the review's measure, whoever saves the cluster."""

from typing import Any

from dedup.models import Cluster
from dedup.review.confidence import cluster_confidence


def cluster_confidence_refresh(sender: type[Cluster], instance: Cluster, update_fields: Any = None, **kwargs) -> None:
    """Before matching saves a cluster's confidence, replace it with the spread the queue orders by.

    Matching stores the lowest verification score, which sits at 0.99-1.00 for almost every cluster; the
    review's measure (dedup.review.confidence) reads the members matching has just written.
    """
    if instance.pk is None or (update_fields is not None and "confidence" not in update_fields):
        return
    members = instance.members.values_list("kind", "evidence")
    if members:
        instance.confidence = cluster_confidence(members)
