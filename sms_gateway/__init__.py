"""SMS channel: Twilio webhooks in (texts become or update tickets through intake), notifications
out through the outbox, and a local stand-in for Twilio's REST API."""
