"""Who may read which dataset and column (SPEC §9): sharing classes, grants and masking.

``policy`` decides per department; ``masking`` turns a masked column into SQL; ``requests``
runs the request → answer → revoke workflow and records each step in the audit log.
"""

from exhub.access.policy import ColumnAccess, DatasetAccess, department_access, known_department

__all__ = ["ColumnAccess", "DatasetAccess", "department_access", "known_department"]
