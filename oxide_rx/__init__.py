"""oxide_rx: streaming OpenAI output as reactive streams (being assembled)."""
