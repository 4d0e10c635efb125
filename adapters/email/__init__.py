"""The email adapter: SMTP out; later, IMAP replies in and signed vote links."""
