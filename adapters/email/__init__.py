"""The email adapter: SMTP out, IMAP in (as core InboundEmail events); no domain."""
