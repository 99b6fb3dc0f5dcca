"""The product's vocabulary: the event catalogue and the enums every layer shares. Imports nothing of dashboard."""
