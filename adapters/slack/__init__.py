"""The Slack adapter: slack-bolt in HTTP (Events API) or Socket Mode.

``inbound`` turns payloads into core events, ``outbound`` renders core
messages as Block Kit, ``app`` wires the bolt App to ``Bot.dispatch``,
``deliver`` posts outbox rows, ``identity`` links Slack users to people.
"""
