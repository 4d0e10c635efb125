"""Slack's Block Kit limits (characters unless said otherwise), as
adapters/discord/limits.py holds Discord's: the one table each renderer cuts to.

Source: https://api.slack.com/reference/block-kit/blocks,
https://api.slack.com/reference/block-kit/block-elements,
https://api.slack.com/reference/surfaces/views. The checker the golden tests
apply is tests/adapters/slack/blockkit.py.
"""

from __future__ import annotations

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100  # modals and the Home tab
MESSAGE_TEXT = 4000  # top-level fallback ``text`` (Slack truncates at 40,000; 4,000 advised)
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150
CONTEXT_TEXT = 2000
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
BLOCK_ID = 255
URL = 3000
PLACEHOLDER = 150
SELECT_OPTIONS = 100
OPTION_TEXT = 75
OPTION_VALUE = 150
IMAGE_ALT = 2000
MODAL_TITLE = 24
MODAL_BUTTON = 24
INPUT_LABEL = 2000
INPUT_HINT = 2000
INPUT_MAX_LENGTH = 3000
PRIVATE_METADATA = 3000
CALLBACK_ID = 255

