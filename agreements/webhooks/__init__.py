"""Webhooks for units' HR systems: a unit registers HTTPS endpoints and chooses events; each
recorded change of its invitations, agreements and terminations is POSTed to them, signed,
from the background worker, with retries (docs/webhooks.md)."""
