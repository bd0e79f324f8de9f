"""Logboek Dataverwerkingen (Logius/MinBZK): one record per data processing, written to a
local outbox in the processing's own transaction and exported over OTLP/HTTP.

- :mod:`.models`: the outbox table (``logboek_records``, migration 0018_logboek);
- :mod:`.records`: what a record says (activity, subject, status, foreign operation), written
  by the audit log's hook (:class:`.records.LogboekWriter`) beside each processing's event;
- :mod:`.subject`: ``dpl.core.data_subject_id``, encrypted with a key of its own;
- :mod:`.exporter`: the loop that sends the outbox to the Logboek with the OpenTelemetry SDK
  until the Logboek confirms (2xx), and the ``gateway_logboek_backlog`` gauge.
"""
