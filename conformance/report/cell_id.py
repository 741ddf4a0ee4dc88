"""A cell id's four names, for pages that only have the id (the merged client-sets document) or
must not trust a cell's own fields to be there (a diff against an older results document)."""

from __future__ import annotations


def split_cell(cell_id: str) -> tuple[str, str, str, str]:
    """endpoint/model/path/scenario; a model id holding a slash keeps it (the other three have none).
    An id that is not four names is kept whole as the endpoint, so nothing is lost from the page."""
    parts = cell_id.split("/")
    if len(parts) < 4:
        return cell_id, "", "", ""
    return parts[0], "/".join(parts[1:-2]), parts[-2], parts[-1]
