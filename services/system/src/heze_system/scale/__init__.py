"""`./heze bench --scale N`: an N-event log per service, built through the service's own
aggregates and saved in batches; then each service is restarted and measured: time to ready and
memory, p50/p99 of every read endpoint of its OpenAPI document and of one write command, and the
rebuild of its read models against the raw select-and-decode rate. Not part of the test suite;
prints the figures and writes them as JSON.

A log has the programme's shape: cohorts of 100 people (one programme's intake) go through the
service's stages on the dates they would, with the actor of the command or the consumer that
would have made each event, a stage of a cohort saved as one batch (`app.save(*aggregates)`).
A person's fate (withdraws, fails the completion exam, fails the assessment) follows from their
number, so it is the same in every service's log. The last cohort is left half way, for the
write command to act on.
"""

from heze_system.scale.measure import run_scale

__all__ = ["run_scale"]
