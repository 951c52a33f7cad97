"""Development-only servers, never part of a production install: a local Redis starter for
`make run` and the SMTP sink that keeps mail on disk instead of sending it."""
