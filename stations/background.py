"""Old home of the RQ job entry point, kept so jobs already queued in Redis as
`stations.background.run_job` still run after an upgrade. New jobs name `stations.worker.run_job`
(`warehouse.relay.ENTRY_POINT`). Remove this module once every queue has drained of old jobs.
"""

from stations.worker import run_job

__all__ = ["run_job"]
