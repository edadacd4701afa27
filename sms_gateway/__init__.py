"""SMS channel: Twilio webhooks in, notifications out through an outbox (issue 5)."""
