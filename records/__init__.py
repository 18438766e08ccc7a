"""Records officers: authoritative choices and their approval, the item record with its audit trail and
exports, copy verification ("is this copy the official one?"), and the records standards: PREMIS 3 event logs,
fixity checks, BagIt packages and IIIF manifests with a level-0 image service.

Sits above detection: may import collections_app, dedup and dedup.imaging; only api/ and reports/ beside it.
"""
